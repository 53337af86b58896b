// Loaded by .mocharc before the tests: test processes make SDK clients themselves rather than through an entry point
// (which turns the SDK's Node-version notice off), and in parallel mode each worker process would print it.
import { silenceSdkNodeVersionNotice } from "../../generator/sdk-notice";

silenceSdkNodeVersionNotice();
