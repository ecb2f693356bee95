# RAM roles for service accounts (RRSA): the cluster's OIDC provider (enable_rrsa in cluster.tf)
# lets a pod exchange its projected service-account token for STS credentials of one RAM role. Each
# role trusts exactly one namespace/service-account pair.

locals {
  rrsa = alicloud_cs_managed_kubernetes.this.rrsa_metadata[0]
}

resource "alicloud_ram_role" "agent" {
  role_name   = "${local.name}-agent"
  description = "Cogrion Cluster Agent of workspace ${var.workspace_name} (RRSA: cogrion-agent/cogrion-agent only)"

  assume_role_policy_document = jsonencode({
    Version = "1"
    Statement = [{
      Action = "sts:AssumeRole"
      Effect = "Allow"
      Principal = {
        Federated = [local.rrsa.ram_oidc_provider_arn]
      }
      Condition = {
        StringEquals = {
          "oidc:iss" = local.rrsa.rrsa_oidc_issuer_url
          "oidc:aud" = "sts.aliyuncs.com"
          "oidc:sub" = "system:serviceaccount:cogrion-agent:cogrion-agent"
        }
      }
    }]
  })

  max_session_duration = 3600
  tags                 = local.tags
}

# With a database, the agent may create accounts and databases on that one instance, so that
# application credentials are made inside the tenant's cluster and never pass through the state or
# the Portal. Without one, the agent's role has no permissions at all (an identity only).
locals {
  database_resource_arn = (
    var.database == null ? null :
    var.database.engine == "polardb" ? "acs:polardb:${var.region}:${data.alicloud_account.current.id}:dbcluster/${alicloud_polardb_cluster.this[0].id}" :
    "acs:rds:${var.region}:${data.alicloud_account.current.id}:dbinstance/${alicloud_db_instance.this[0].id}"
  )
  database_actions = (
    var.database == null ? [] :
    var.database.engine == "polardb" ? ["polardb:CreateAccount", "polardb:DescribeAccounts", "polardb:ModifyAccountPassword", "polardb:GrantAccountPrivilege", "polardb:CreateDatabase", "polardb:DescribeDatabases"] :
    ["rds:CreateAccount", "rds:DescribeAccounts", "rds:ResetAccountPassword", "rds:GrantAccountPrivilege", "rds:CreateDatabase", "rds:DescribeDatabases"]
  )
}

resource "alicloud_ram_policy" "agent_database" {
  count = var.database == null ? 0 : 1

  policy_name = "${local.name}-agent-database"
  description = "Cogrion Cluster Agent of workspace ${var.workspace_name}: manage accounts and databases on this workspace's database only"
  policy_document = jsonencode({
    Version = "1"
    Statement = [{
      Effect   = "Allow"
      Action   = local.database_actions
      Resource = [local.database_resource_arn]
    }]
  })
}

resource "alicloud_ram_role_policy_attachment" "agent_database" {
  count = var.database == null ? 0 : 1

  role_name   = alicloud_ram_role.agent.role_name
  policy_name = alicloud_ram_policy.agent_database[0].policy_name
  policy_type = "Custom"
}
