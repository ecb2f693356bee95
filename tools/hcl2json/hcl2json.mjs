#!/usr/bin/env node
// Prints the merged JSON form of every .tf file in one directory (not its subdirectories), as
// @cdktf/hcl2json parses it: the same HCL parser OpenTofu uses, compiled to WebAssembly, so the
// module contract test needs no tofu binary. Exits non-zero, naming the file, on a syntax error.
//
//   node tools/hcl2json/hcl2json.mjs terraform/aws
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { parse } from "@cdktf/hcl2json";

const directory = process.argv[2];
if (!directory) {
  console.error("usage: hcl2json.mjs <directory>");
  process.exit(64);
}

// Blocks of the same kind from several files are merged by name (variables.tf and outputs.tf both
// contribute to the one module); a name declared twice keeps both declarations, so a duplicate is
// visible to the caller rather than silently overwritten.
function merge(target, source) {
  for (const [key, value] of Object.entries(source)) {
    if (Array.isArray(value)) {
      target[key] = Array.isArray(target[key]) ? target[key].concat(value) : value;
    } else if (value !== null && typeof value === "object") {
      target[key] = merge(target[key] && typeof target[key] === "object" && !Array.isArray(target[key]) ? target[key] : {}, value);
    } else {
      target[key] = value;
    }
  }
  return target;
}

const files = (await readdir(directory)).filter((name) => name.endsWith(".tf")).sort();
if (files.length === 0) {
  console.error(`no .tf files in ${directory}`);
  process.exit(66);
}

const merged = {};
for (const file of files) {
  const full = path.join(directory, file);
  try {
    merge(merged, await parse(full, await readFile(full, "utf8")));
  } catch (error) {
    console.error(`${full}: ${error?.message ?? error}`);
    process.exit(65);
  }
}
process.stdout.write(JSON.stringify(merged, null, 2) + "\n");
