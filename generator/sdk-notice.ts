/**
 * The AWS SDK prints an 8-line NodeVersionSupportWarning on Node 20 (its releases after January 2027 need Node 22)
 * when a command first makes an SDK client. The commands support Node 20 (package.json `engines`), so the entry
 * points turn it off with the SDK's own switch (AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true); a value the
 * user set is kept, so `=false` shows the notice again.
 */
export function silenceSdkNodeVersionNotice(env: NodeJS.ProcessEnv = process.env): void {
    env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
}
