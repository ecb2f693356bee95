terraform {
  # OpenTofu 1.8 is the oldest release we test the Portal's runner against.
  required_version = ">= 1.8.0"

  required_providers {
    kubernetes = {
      source  = "hashicorp/kubernetes"
      version = "~> 2.36"
    }
  }
}
