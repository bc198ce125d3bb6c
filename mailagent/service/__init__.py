"""The service: what serves many people's mailboxes above the runner.

Accounts and their secrets in a database, workers on a task engine that sync each account when
it is due, and (later) the API, the MCP server, web OAuth connect and push notifications. The
single-user path (config file, `mailagent sync`) never imports this package.
"""
