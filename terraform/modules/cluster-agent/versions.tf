terraform {
  # OpenTofu 1.10 is the oldest release the Portal's runner accepts (docs/adr/0043).
  required_version = ">= 1.10.0"

  required_providers {
    kubernetes = {
      source  = "hashicorp/kubernetes"
      version = "~> 2.36"
    }
  }
}
