output "state_bucket" {
  description = "Name of the OSS bucket that holds the workspaces' OpenTofu state."
  value       = alicloud_oss_bucket.state.bucket
}

output "state_region" {
  description = "Region of the state bucket and lock table."
  value       = var.region
}

output "lock_table" {
  description = "Name of the Tablestore table used for state locking."
  value       = alicloud_ots_table.locks.table_name
}

output "lock_endpoint" {
  description = "HTTPS endpoint of the Tablestore instance that holds the lock table: the oss backend's tablestore_endpoint, whose first label is the instance name (cgr-<first 12 hex digits of md5(\"<account id>/<region>\")>)."
  # The oss backend takes the instance name from the first label of this host name; it has no
  # separate instance-name setting.
  value = "https://${alicloud_ots_instance.locks.name}.${var.region}.ots.aliyuncs.com"
}
