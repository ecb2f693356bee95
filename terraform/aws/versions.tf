terraform {
  # OpenTofu: the Portal's runner requires 1.10 or later (docs/adr/0043: S3 lock files).
  required_version = ">= 1.10.0"

  # Versions the module is written and reviewed against. The root module the Portal writes commits
  # a .terraform.lock.hcl, which pins the exact provider builds and their checksums.
  required_providers {
    aws = {
      source = "hashicorp/aws"
      # terraform-aws-modules/eks 20.37.x supports the 5.x provider from 5.95 on, not 6.x.
      version = ">= 5.95.0, < 6.0.0"
    }
    # Applies the Cluster Agent's install (terraform/modules/cluster-agent/install.yaml.tftpl).
    kubectl = {
      source  = "alekc/kubectl"
      version = "~> 2.1"
    }
    helm = {
      source  = "hashicorp/helm"
      version = "~> 2.17"
    }
  }
}
