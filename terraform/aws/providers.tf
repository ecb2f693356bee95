# Where provider configuration lives (docs/adr/0040):
#   - aws: configured by the root module the Portal writes (region, and assume_role with the tenant's
#     role ARN and external ID, a fresh session per run). This module never sees a credential.
#   - kubectl and helm: configured here, because their endpoint and credentials exist only once
#     the cluster does. The token comes from the EKS API (aws_eks_cluster_auth: a presigned STS call,
#     valid 15 minutes) through the same assumed role; no cloud CLI, no kubeconfig on disk, nothing
#     long-lived. A consequence: the module cannot be called with count or for_each.

data "aws_eks_cluster_auth" "this" {
  name = module.eks.cluster_name
}

provider "kubectl" {
  host                   = module.eks.cluster_endpoint
  cluster_ca_certificate = base64decode(module.eks.cluster_certificate_authority_data)
  token                  = data.aws_eks_cluster_auth.this.token
  # Only what is written here: never a kubeconfig from the runner's home.
  load_config_file = false
}

provider "helm" {
  kubernetes {
    host                   = module.eks.cluster_endpoint
    cluster_ca_certificate = base64decode(module.eks.cluster_certificate_authority_data)
    token                  = data.aws_eks_cluster_auth.this.token
  }
}
