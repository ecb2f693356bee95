# The module's outputs. terraform/aws declares the same names with the same meanings; the Portal reads
# them (Portal/Features/Workspaces/Modules/ModuleOutputs.cs). None is secret.

output "cluster_id" {
  description = "The cluster's cloud identifier: the EKS cluster ARN (AWS) or the ACK cluster id (AliCloud)."
  value       = alicloud_cs_managed_kubernetes.this.id
}

output "cluster_name" {
  description = "The Kubernetes cluster's name in the cloud console."
  value       = alicloud_cs_managed_kubernetes.this.name
}

output "cluster_endpoint" {
  description = "HTTPS URL of the cluster's Kubernetes API (public endpoint, reachable only from api_allowed_cidrs)."
  value       = local.api_server_internet
}

output "kubernetes_version" {
  description = "The Kubernetes version the cluster runs, as the cloud reports it."
  value       = alicloud_cs_managed_kubernetes.this.version
}

output "vpc_id" {
  description = "Id of the workspace's VPC."
  value       = module.vpc.this_vpc_id
}

output "private_subnet_ids" {
  description = "Ids of the private subnets (AWS) or VSwitches (AliCloud) the nodes and the database use."
  value       = local.private_vswitch_ids
}

output "public_subnet_ids" {
  description = "Ids of the public subnets (AWS) or VSwitches (AliCloud) that hold the NAT gateway and internet-facing load balancers."
  value       = local.public_vswitch_ids
}

output "nat_public_ips" {
  description = "Public IPv4 addresses the workspace's outbound traffic leaves from (e.g. for the tenant's allow-lists)."
  value       = [alicloud_eip_address.nat.ip_address]
}

output "oidc_provider_arn" {
  description = "ARN of the cluster's OIDC identity provider that workload roles trust (IRSA on AWS, RRSA on AliCloud)."
  value       = local.rrsa.ram_oidc_provider_arn
}

output "agent_namespace" {
  description = "Kubernetes namespace the Cluster Agent runs in."
  value       = module.cluster_agent.namespace
}

output "agent_role_arn" {
  description = "ARN of the cloud role the Cluster Agent's service account assumes (IRSA role on AWS, RAM role on AliCloud)."
  value       = alicloud_ram_role.agent.arn
}

output "database_endpoint" {
  description = "Host name of the database, or null when the workspace has none."
  value = (
    !local.database_enabled ? null :
    local.database_is_rds ? alicloud_db_instance.this[0].connection_string :
    alicloud_polardb_cluster.this[0].connection_string
  )
}

output "database_port" {
  description = "TCP port of the database, or null when the workspace has none."
  value = (
    !local.database_enabled ? null :
    local.database_is_rds ? tonumber(alicloud_db_instance.this[0].port) :
    tonumber(alicloud_polardb_cluster.this[0].port)
  )
}

output "database_master_secret_ref" {
  description = "Where the database's master credentials are kept, never the credentials themselves: the Secrets Manager secret ARN (AWS), or null (AliCloud, where the agent creates accounts through its RAM role); null without a database."
  value       = null
}
