// Node-RED settings for tests/nodered: headless, loopback only, nothing fetched, nothing kept.
// The test sets NODE_RED_PORT and NODE_RED_FLOW; the user directory is given with --userDir.
module.exports = {
    uiHost: "127.0.0.1",
    uiPort: Number(process.env.NODE_RED_PORT || 1880),
    flowFile: process.env.NODE_RED_FLOW,
    flowFilePretty: true,
    credentialSecret: false,
    httpNodeRoot: false,
    disableEditor: true,
    externalModules: { autoInstall: false, palette: { allowInstall: false } },
    diagnostics: { enabled: false },
    telemetry: { enabled: false },
    runtimeState: { enabled: false },
    logging: { console: { level: "info", metrics: false, audit: false } },
    functionExternalModules: false,
    editorTheme: { projects: { enabled: false } },
};
