-- not in the manifest yet
ALTER TABLE namespaces ADD shard int;
