terraform {
  # OpenTofu: the Portal's runner requires 1.10 or later (docs/adr/0043: S3 lock files).
  required_version = ">= 1.10.0"

  # Versions the module is written and reviewed against; the root module the Portal writes commits a
  # .terraform.lock.hcl with the exact builds.
  required_providers {
    alicloud = {
      source = "aliyun/alicloud"
      # 1.275 is the first release with alicloud_cs_managed_kubernetes.disable_encryption, which must
      # be set explicitly for Secret encryption to take effect; vswitch_ids needs 1.241, RAM role_name 1.252.
      version = ">= 1.275.0, < 2.0.0"
    }
    kubernetes = {
      source  = "hashicorp/kubernetes"
      version = "~> 2.36"
    }
  }
}
