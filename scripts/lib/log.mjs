// Console output of the project's scripts: one prefix, to stderr, so stdout stays usable for data.
const prefix = '[sagaflow]';
export const log = {
  info: (msg) => console.error(`${prefix} ${msg}`),
  warn: (msg) => console.error(`${prefix} warning: ${msg}`),
  error: (msg) => console.error(`${prefix} error: ${msg}`),
};
