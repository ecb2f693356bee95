# Verification of a connected AliCloud account: the Portal's runner assumes the tenant's RAM role (with
# the external ID) and starts tofu with that session in ALICLOUD_ACCESS_KEY/SECRET_KEY/SECURITY_TOKEN
# (docs/adr/0052); this reads who the session is. Creates nothing.
terraform {
  required_version = ">= 1.10.0"
  required_providers {
    alicloud = {
      source  = "aliyun/alicloud"
      version = ">= 1.275.0"
    }
  }
}

data "alicloud_caller_identity" "current" {}

output "caller_arn" {
  description = "The identity the Portal has after assuming the tenant's RAM role."
  value       = data.alicloud_caller_identity.current.arn
}

output "account_id" {
  description = "The AliCloud account the assumed role belongs to; must be the account the tenant connected."
  value       = data.alicloud_caller_identity.current.account_id
}
