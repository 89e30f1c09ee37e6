"""hlm's glue for Swift's own servers and daemons.

Swift loads these modules itself; everything else in hlm is C++:

* hlm_swift.replica  -- the rule: is a replica's data on disk, or is the
  file a tape stub?
* hlm_swift.guard    -- an object-server pipeline filter: a GET of a stub
  answers 412, never its bytes (entry point egg:hlm_swift#guard)
* hlm_swift.diskfile -- a DiskFile module for replicated storage policies:
  the object auditor and replicator leave stubs alone
  (egg:hlm_swift#replication.fs)
"""
