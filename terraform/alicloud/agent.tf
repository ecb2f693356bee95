# The Cluster Agent (terraform/modules/cluster-agent, shared with terraform/aws), bound to its RAM
# role through RRSA. Installed once the node pools exist so the Deployment can be scheduled, and after Flux
# (flux.tf), so the agent's first HelmRepository/HelmRelease commands find Flux's CRDs and controllers.
module "cluster_agent" {
  source = "../modules/cluster-agent"

  tenant_id       = var.tenant_id
  workspace_id    = var.workspace_id
  agent_image     = var.agent_image
  portal_url      = var.portal_url
  bootstrap_token = var.agent_bootstrap_token

  # ack-pod-identity-webhook mounts the role's credentials into pods of labelled namespaces whose
  # service account names a role.
  service_account_annotations = {
    "pod-identity.alibabacloud.com/role-name" = alicloud_ram_role.agent.role_name
  }
  namespace_labels = {
    "pod-identity.alibabacloud.com/injection" = "on"
  }

  depends_on = [alicloud_cs_kubernetes_node_pool.this, module.flux]
}
