# Where provider configuration lives (docs/adr/0040):
#   - alicloud: configured by the root module the Portal writes (region only). The Portal's runner
#     assumes the tenant's RAM role with the external ID and starts tofu with that STS session in
#     ALICLOUD_ACCESS_KEY/SECRET_KEY/SECURITY_TOKEN, for the provider and the oss backend alike (docs/adr/0052).
#   - kubectl and helm: configured here from the cluster itself. ACK issues a temporary client certificate
#     (alicloud_cs_cluster_credential, expiring after temporary_duration_minutes) through the same
#     assumed role; no cloud CLI, no kubeconfig on disk. The module cannot be called with count/for_each.

data "alicloud_cs_cluster_credential" "this" {
  cluster_id = alicloud_cs_managed_kubernetes.this.id
  # Long enough for one run to install or update the agent; useless soon after.
  temporary_duration_minutes = 60
}

locals {
  # The provider has exported certificate_authority both as a map and as a one-element list over
  # its versions; accept either shape.
  cluster_credential = try(data.alicloud_cs_cluster_credential.this.certificate_authority[0], data.alicloud_cs_cluster_credential.this.certificate_authority)
}

provider "kubectl" {
  host                   = local.api_server_internet
  cluster_ca_certificate = base64decode(local.cluster_credential.cluster_cert)
  client_certificate     = base64decode(local.cluster_credential.client_cert)
  client_key             = base64decode(local.cluster_credential.client_key)
  # Only what is written here: never a kubeconfig from the runner's home.
  load_config_file = false
}

provider "helm" {
  kubernetes {
    host                   = local.api_server_internet
    cluster_ca_certificate = base64decode(local.cluster_credential.cluster_cert)
    client_certificate     = base64decode(local.cluster_credential.client_cert)
    client_key             = base64decode(local.cluster_credential.client_key)
  }
}
