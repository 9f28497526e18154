/**
 * Every environment variable the server reads, for the README's configuration table (generated from this
 * list by `npm run readme`; a test checks the loader reads exactly these).
 */
export const ENV_VARS: { name: string; meaning: string; default?: string }[] = [
  {
    name: 'DYNAMICS_URL',
    meaning:
      'Environment URL, e.g. https://contoso.crm.dynamics.com (the address of any Dynamics page, or the Web API endpoint, works too)',
  },
  {
    name: 'AZURE_TENANT_ID',
    meaning:
      "Directory (tenant) ID (GUID; a domain such as `contoso.onmicrosoft.com` is refused with where its ID is shown, since a hosted server checks callers' tokens against the ID)",
  },
  {
    name: 'AZURE_CLIENT_ID',
    meaning:
      "Application (client) ID of the app registration (GUID); with managed identity, a user-assigned identity's client ID",
  },
  { name: 'AZURE_CLIENT_SECRET', meaning: "The client secret's **Value** (not its Secret ID)" },
  {
    name: 'AZURE_CLIENT_CERTIFICATE_PATH',
    meaning: 'PEM file with private key and certificate: certificate credentials instead of a secret',
  },
  {
    name: 'AZURE_USE_MANAGED_IDENTITY',
    meaning: '`true`: managed identity (system-assigned, or user-assigned via AZURE_CLIENT_ID)',
    default: 'false',
  },
  {
    name: 'AZURE_AUTHORITY_HOST',
    meaning: 'Entra ID authority (sovereign clouds, test authorities); a non-Microsoft host is trusted as given',
    default: 'https://login.microsoftonline.com',
  },
  {
    name: 'DYNAMICS_MCP_POLICY',
    meaning: 'Policy JSON file: which tables and columns may be read and written',
    default: 'built-in policy',
  },
  {
    name: 'DYNAMICS_MCP_READ_ONLY',
    meaning: '`true`: write tools are removed and every write refused',
    default: 'false',
  },
  { name: 'DYNAMICS_MCP_CONFIG', meaning: 'Configuration JSON file (lowest precedence after defaults)' },
  {
    name: 'DYNAMICS_MCP_AUDIT_LOG',
    meaning: 'File that receives one JSON line per write',
    default: 'the log (stderr)',
  },
  {
    name: 'DYNAMICS_MCP_ALLOW_HTTP',
    meaning: '`true`: allow a plain http:// DYNAMICS_URL on a loopback address (local proxies)',
    default: 'false',
  },
  {
    name: 'DYNAMICS_MCP_CURSOR_KEY',
    meaning: 'Secret (32+ characters) shared by replicas so paging cursors work across them',
    default: 'random per process',
  },
  { name: 'LOG_LEVEL', meaning: 'fatal, error, warn, info, debug, trace or silent', default: 'info' },
  { name: 'PORT', meaning: 'HTTP port (also DYNAMICS_MCP_PORT)', default: '3000' },
  { name: 'DYNAMICS_MCP_PORT', meaning: 'HTTP port, when PORT is taken by something else', default: '3000' },
  { name: 'DYNAMICS_MCP_HOST', meaning: 'HTTP bind address', default: '127.0.0.1' },
  {
    name: 'DYNAMICS_MCP_PUBLIC_URL',
    meaning: 'The URL clients use, when a proxy sits in front (protected-resource metadata)',
  },
  {
    name: 'DYNAMICS_MCP_ALLOWED_HOSTS',
    meaning: 'Comma-separated Host names accepted besides loopback (required off loopback)',
  },
  { name: 'DYNAMICS_MCP_ALLOWED_ORIGINS', meaning: 'Comma-separated browser Origins accepted besides loopback' },
  {
    name: 'DYNAMICS_MCP_API_KEYS',
    meaning: 'Inbound API keys: comma-separated, or a file with one per line (16+ characters each)',
  },
  {
    name: 'DYNAMICS_MCP_READ_API_KEYS',
    meaning: 'Inbound API keys whose sessions may only read (write tools not listed), as DYNAMICS_MCP_API_KEYS',
  },
  {
    name: 'DYNAMICS_MCP_ENTRA_AUDIENCE',
    meaning: 'Inbound Entra ID tokens for this API (its Application ID URI or client ID)',
  },
  { name: 'DYNAMICS_MCP_REQUIRED_SCOPES', meaning: 'Delegated tokens need one of these scopes', default: 'mcp.tools' },
  { name: 'DYNAMICS_MCP_REQUIRED_ROLES', meaning: 'App tokens need one of these app roles', default: 'Mcp.Tools' },
  {
    name: 'DYNAMICS_MCP_READ_SCOPES',
    meaning: 'Delegated tokens with one of these scopes (and no required one) get a read-only session',
    default: 'mcp.read',
  },
  {
    name: 'DYNAMICS_MCP_READ_ROLES',
    meaning: 'App tokens with one of these app roles (and no required one) get a read-only session',
    default: 'Mcp.Read',
  },
  {
    name: 'DYNAMICS_MCP_ON_BEHALF_OF',
    meaning: '`true`: call Dataverse as the signed-in user (on-behalf-of)',
    default: 'false',
  },
  { name: 'DYNAMICS_MCP_AUTH', meaning: '`none`: no inbound authentication (refused unless bound to loopback)' },
  {
    name: 'HTTPS_PROXY',
    meaning:
      'Outbound proxy for Dataverse and Entra ID (also `https_proxy`), e.g. `http://user:password@proxy:8080`; its password is kept out of logs',
  },
  { name: 'HTTP_PROXY', meaning: 'Outbound proxy for plain-HTTP targets, and for HTTPS when HTTPS_PROXY is unset' },
  {
    name: 'NO_PROXY',
    meaning: 'Comma-separated hosts reached directly, not through the proxy',
    default: 'localhost,127.0.0.1,::1',
  },
];
