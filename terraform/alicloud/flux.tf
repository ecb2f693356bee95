# Flux's source and helm controllers (terraform/modules/flux, shared with terraform/aws): catalog apps
# are HelmReleases they install. After the node pools (the controllers need nodes to become available,
# and the run waits for them) and before the Cluster Agent (agent.tf).
module "flux" {
  source = "../modules/flux"

  tenant_id    = var.tenant_id
  workspace_id = var.workspace_id

  depends_on = [alicloud_cs_kubernetes_node_pool.this]
}
