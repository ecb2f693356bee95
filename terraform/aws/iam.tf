# IAM roles for service accounts (IRSA): each in-cluster component that calls AWS gets its own role,
# trusted only by its own service account through the cluster's OIDC provider, with only the policy
# it needs. Node roles therefore carry no add-on permissions.

module "vpc_cni_irsa" {
  source  = "terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts-eks"
  version = "5.60.0"

  role_name             = "${local.name}-vpc-cni"
  attach_vpc_cni_policy = true
  vpc_cni_enable_ipv4   = true

  oidc_providers = {
    this = {
      provider_arn               = module.eks.oidc_provider_arn
      namespace_service_accounts = ["kube-system:aws-node"]
    }
  }

  tags = local.tags
}

module "ebs_csi_irsa" {
  source  = "terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts-eks"
  version = "5.60.0"

  role_name             = "${local.name}-ebs-csi"
  attach_ebs_csi_policy = true

  oidc_providers = {
    this = {
      provider_arn               = module.eks.oidc_provider_arn
      namespace_service_accounts = ["kube-system:ebs-csi-controller-sa"]
    }
  }

  tags = local.tags
}

# The Cluster Agent's own role. Without a database it has no permissions at all (an identity only);
# with one, it may read the database's master credentials from Secrets Manager so that it can create
# application users inside the tenant's cluster. The credentials never leave the tenant's account.
module "agent_irsa" {
  source  = "terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts-eks"
  version = "5.60.0"

  role_name = "${local.name}-agent"

  role_policy_arns = var.database == null ? {} : {
    database_secret = aws_iam_policy.agent_database_secret[0].arn
  }

  oidc_providers = {
    this = {
      provider_arn               = module.eks.oidc_provider_arn
      namespace_service_accounts = ["cogrion-agent:cogrion-agent"]
    }
  }

  tags = local.tags
}

data "aws_iam_policy_document" "agent_database_secret" {
  count = var.database == null ? 0 : 1

  statement {
    sid       = "ReadThisWorkspacesDatabaseMasterSecret"
    actions   = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
    resources = [module.database[0].db_instance_master_user_secret_arn]
  }
}

resource "aws_iam_policy" "agent_database_secret" {
  count = var.database == null ? 0 : 1

  name        = "${local.name}-agent-database-secret"
  description = "Cogrion Cluster Agent of workspace ${var.workspace_name}: read this workspace's database master secret, nothing else."
  policy      = data.aws_iam_policy_document.agent_database_secret[0].json
  tags        = local.tags
}
