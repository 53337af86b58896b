/** Entry point of the console page (bundled by local/console/build.ts into dist/console.js). */
import { render } from "preact";
import { App } from "./app";

const root = document.getElementById("app");
if (root) render(<App />, root);
