// Most tests run under tsx. The files that check Lambda packages run first, under ts-node, in their own run
// (test/mocharc-packaging.json): `pulumi up` compiles with ts-node, and a serialized handler keeps its loader's text.
const packaging = require("./test/mocharc-packaging.json");

module.exports = {
    "node-option": ["import=tsx"],
    require: ["test/support/quiet-sdk-notice.ts"],
    extension: ["ts"],
    spec: ["test/**/*.test.ts"],
    ignore: packaging.spec,
    timeout: 60000,
    parallel: true,
    jobs: 2,
    exit: true,
    "forbid-pending": true,
};
