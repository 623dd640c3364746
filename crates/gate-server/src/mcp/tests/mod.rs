//! The MCP server with rmcp's own client, against the running gateway and over stdio:
//! the tools (`server`) and the tasks extension for held calls (`tasks`).

mod server;
mod tasks;
