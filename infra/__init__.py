"""The Pulumi program's parts, one module per concern.

`settings` reads the stack's configuration; `storage`, `auth`, `pipeline`, `functions`,
`api` and `observability` each declare one component; `catalog` lets the functions find
what the other components built; `package` builds the Lambda code asset. Everything
topological (tables, queues, rules, functions, routes, access) comes from
`toons.aws.wiring`; this package only decides how it is deployed.
"""
