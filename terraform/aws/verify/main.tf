# Verification of a connected AWS account: the Portal assumes the tenant's role (with the external ID,
# configured in the root module the Portal writes) and reads who it is. Creates nothing.
terraform {
  required_version = ">= 1.10.0"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.95, < 6.0"
    }
  }
}

data "aws_caller_identity" "current" {}

output "caller_arn" {
  description = "The identity the Portal has after assuming the tenant's role (an assumed-role ARN)."
  value       = data.aws_caller_identity.current.arn
}

output "account_id" {
  description = "The AWS account the assumed role belongs to; must be the account the tenant connected."
  value       = data.aws_caller_identity.current.account_id
}
