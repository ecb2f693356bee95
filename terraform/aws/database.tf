# The optional database (var.database): RDS PostgreSQL or MySQL in the private subnets, reachable
# only from the cluster's nodes, encrypted with a customer-managed key, TLS required, Multi-AZ, and
# with a master password that RDS generates and keeps in Secrets Manager: it is never in a variable,
# the state, an output or the Portal.

locals {
  database_enabled = var.database != null

  database_engines = {
    postgres = { engine_version = "16", family = "postgres16", major_engine_version = "16", port = 5432, tls_parameter = "rds.force_ssl" }
    mysql    = { engine_version = "8.0", family = "mysql8.0", major_engine_version = "8.0", port = 3306, tls_parameter = "require_secure_transport" }
  }
  database_engine = local.database_enabled ? local.database_engines[var.database.engine] : null
}

resource "aws_kms_key" "database" {
  count = local.database_enabled ? 1 : 0

  description             = "Cogrion workspace ${var.workspace_name}: database storage, snapshots and Performance Insights"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  tags                    = local.tags
}

resource "aws_kms_alias" "database" {
  count = local.database_enabled ? 1 : 0

  name          = "alias/${local.name}-database"
  target_key_id = aws_kms_key.database[0].key_id
}

resource "aws_security_group" "database" {
  count = local.database_enabled ? 1 : 0

  name        = "${local.name}-database"
  description = "Cogrion workspace ${var.workspace_name}: database, reachable from the cluster nodes only"
  vpc_id      = module.vpc.vpc_id
  tags        = merge(local.tags, { Name = "${local.name}-database" })
}

resource "aws_vpc_security_group_ingress_rule" "database_from_nodes" {
  count = local.database_enabled ? 1 : 0

  security_group_id            = aws_security_group.database[0].id
  description                  = "Database port from the EKS nodes"
  referenced_security_group_id = module.eks.node_security_group_id
  ip_protocol                  = "tcp"
  from_port                    = local.database_engine.port
  to_port                      = local.database_engine.port
  tags                         = local.tags
}

# Karpenter's nodes use the same node security group (discovered by tag), so they are covered too.

module "database" {
  count = local.database_enabled ? 1 : 0

  source  = "terraform-aws-modules/rds/aws"
  version = "6.12.0"

  identifier = local.name

  engine               = var.database.engine
  engine_version       = local.database_engine.engine_version
  family               = local.database_engine.family
  major_engine_version = local.database_engine.major_engine_version
  instance_class       = var.database.instance_class

  allocated_storage     = var.database.storage_gb
  max_allocated_storage = var.database.storage_gb * 2
  storage_type          = "gp3"
  storage_encrypted     = true
  kms_key_id            = aws_kms_key.database[0].arn

  db_name  = "platform"
  username = "cogrion_admin"
  port     = local.database_engine.port

  # RDS generates the master password and rotates it in Secrets Manager (see the header).
  manage_master_user_password = true

  multi_az               = true
  create_db_subnet_group = true
  subnet_ids             = module.vpc.private_subnets
  vpc_security_group_ids = [aws_security_group.database[0].id]
  publicly_accessible    = false

  iam_database_authentication_enabled = true

  # Refuse unencrypted connections.
  create_db_parameter_group = true
  parameters = [{
    name         = local.database_engine.tls_parameter
    value        = "1"
    apply_method = "pending-reboot"
  }]
  create_db_option_group = false

  backup_retention_period = 14
  copy_tags_to_snapshot   = true
  deletion_protection     = var.deletion_protection
  # Even a confirmed destroy keeps a final snapshot: the data is the tenant's, not ours to discard.
  skip_final_snapshot              = false
  final_snapshot_identifier_prefix = "${local.name}-final"

  auto_minor_version_upgrade = true
  apply_immediately          = false

  tags = local.tags
}
