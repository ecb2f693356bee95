terraform {
  # OpenTofu: the Portal's runner requires 1.10 or later (docs/adr/0043: S3 lock files).
  required_version = ">= 1.10.0"

  # Versions the module is written and reviewed against; the root module the Portal writes commits a
  # .terraform.lock.hcl with the exact builds.
  required_providers {
    alicloud = {
      source = "aliyun/alicloud"
      # Checked against the provider's current source and registry docs (docs/adr/0050): RAM
      # role_name / assume_role_policy_document need 1.252, ACK vswitch_ids 1.241, node pool
      # node_pool_name 1.219; alicloud_cs_managed_kubernetes.disable_encryption is in the current
      # source but its first release could not be confirmed here, hence the floor well above 1.252.
      version = ">= 1.275.0, < 2.0.0"
    }
    # Applies the Cluster Agent's install (terraform/modules/cluster-agent/install.yaml.tftpl).
    kubectl = {
      source  = "alekc/kubectl"
      version = "~> 2.1"
    }
    # Installs Flux's controllers (terraform/modules/flux).
    helm = {
      source  = "hashicorp/helm"
      version = "~> 2.17"
    }
  }
}
