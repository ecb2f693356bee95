# The Cluster Agent (terraform/modules/cluster-agent, shared with terraform/alicloud), bound to its
# IRSA role. Installed once the nodes exist so the Deployment can be scheduled, and after Flux (flux.tf), so
# the agent's first HelmRepository/HelmRelease commands find Flux's CRDs and controllers.
module "cluster_agent" {
  source = "../modules/cluster-agent"

  tenant_id       = var.tenant_id
  workspace_id    = var.workspace_id
  agent_image     = var.agent_image
  portal_url      = var.portal_url
  bootstrap_token = var.agent_bootstrap_token

  service_account_annotations = {
    "eks.amazonaws.com/role-arn" = module.agent_irsa.iam_role_arn
  }

  depends_on = [module.eks, module.flux]
}
