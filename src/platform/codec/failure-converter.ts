// The failure converter every worker and client loads by path (WorkerOptions.dataConverter.failureConverterPath): the
// SDK's default with encodeCommonAttributes, so a failure's message and stack trace travel as an encoded payload that
// the payload codec encrypts, instead of plain text in history. Failures recorded before (message in clear) still
// decode as before.
//
// Written as CommonJS on purpose: the SDK require()s this file by path, from dist/ (compiled) and from the TypeScript
// sources under test (Node strips the types but keeps the module syntax), and the workflow bundler bundles it into
// the sandbox; `module.exports` is the one form all three load.
const { DefaultFailureConverter } = require('@temporalio/common') as typeof import('@temporalio/common');

module.exports = { failureConverter: new DefaultFailureConverter({ encodeCommonAttributes: true }) };
