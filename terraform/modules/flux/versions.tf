terraform {
  # OpenTofu 1.10 is the oldest release the Portal's runner accepts (docs/adr/0043).
  required_version = ">= 1.10.0"

  required_providers {
    # Installs the fluxcd-community flux2 chart. Configured by the calling cloud module (docs/adr/0040).
    helm = {
      source  = "hashicorp/helm"
      version = "~> 2.17"
    }
  }
}
