terraform {
  # OpenTofu 1.10 is the oldest release the Portal's runner accepts (docs/adr/0043).
  required_version = ">= 1.10.0"

  required_providers {
    # Applies the rendered install.yaml.tftpl without needing the API server at plan time (the
    # cluster is created by the same run). Configured by the calling cloud module (docs/adr/0040).
    kubectl = {
      source  = "alekc/kubectl"
      version = "~> 2.1"
    }
  }
}
