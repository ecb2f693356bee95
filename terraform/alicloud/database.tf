# The optional database (var.database): ApsaraDB RDS for PostgreSQL or MySQL, or PolarDB for MySQL,
# in the private VSwitches, with an IP allow-list of the private VSwitches only, disks encrypted with
# the workspace's KMS key, high-availability (primary and standby in two zones).
#
# Provider resources rather than the collection's rds module: that module takes the account password
# as an input (so it would sit in the variables, the plan and the state) and has no disk-encryption
# input. Here no database account is created at all: the Cluster Agent creates accounts through its
# RAM role (ram.tf), inside the tenant's cluster.

locals {
  database_enabled = var.database != null
  database_is_rds  = local.database_enabled && try(var.database.engine, "") != "polardb"

  rds_engines = {
    postgres = { engine = "PostgreSQL", engine_version = "16.0" }
    mysql    = { engine = "MySQL", engine_version = "8.0" }
  }
}

resource "alicloud_db_instance" "this" {
  count = local.database_is_rds ? 1 : 0

  instance_name  = local.name
  engine         = local.rds_engines[var.database.engine].engine
  engine_version = local.rds_engines[var.database.engine].engine_version
  instance_type  = var.database.instance_class

  instance_storage         = var.database.storage_gb
  db_instance_storage_type = "cloud_essd"
  encryption_key           = alicloud_kms_key.this.id

  category             = "HighAvailability"
  instance_charge_type = "Postpaid"

  # Primary in the first zone, standby in the second.
  zone_id          = local.zone_ids[0]
  zone_id_slave_a  = local.zone_ids[1]
  vswitch_id       = join(",", slice(local.private_vswitch_ids, 0, 2))
  security_ips     = local.private_cidrs

  deletion_protection = var.deletion_protection
  tags                = local.tags
}

resource "alicloud_polardb_cluster" "this" {
  count = local.database_enabled && !local.database_is_rds ? 1 : 0

  description   = local.name
  db_type       = "MySQL"
  db_version    = "8.0"
  db_node_class = var.database.instance_class
  pay_type      = "PostPaid"

  zone_id      = local.zone_ids[0]
  vswitch_id   = local.private_vswitch_ids[0]
  security_ips = local.private_cidrs

  # Transparent data encryption with the workspace's key. TDE alone only makes encryption available;
  # encrypt_new_tables (PolarDB for MySQL 8.0) is what encrypts every table created afterwards, so an
  # application's tables are encrypted without it asking. TDE cannot be turned off once it is on.
  tde_status         = "Enabled"
  encryption_key     = alicloud_kms_key.this.id
  encrypt_new_tables = "ON"

  # PolarDB's deletion protection is called a "lock": 1 locked, 0 not. pay_type and deletion_lock are
  # the names the provider has had since 1.169; the regenerated 1.271+ reference page lists
  # payment_type and no deletion_lock while its own example still uses pay_type (docs/adr/0050:
  # to be settled by `tofu validate` against the locked provider build).
  deletion_lock = var.deletion_protection ? 1 : 0
  tags          = local.tags
}
