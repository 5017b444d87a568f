// Loaded by mocha before the specs. Node's MockTimers warns that it is experimental on first use; the
// specs use it on purpose (to show that Event follows it), so that one warning is dropped. Every other
// warning still prints.
const emitWarning = process.emitWarning;
process.emitWarning = function (warning, ...rest) {
  const type = typeof rest[0] === 'string' ? rest[0] : rest[0]?.type;
  const message = typeof warning === 'string' ? warning : warning?.message;
  if (type === 'ExperimentalWarning' && /^The MockTimers API/.test(message ?? '')) return;
  return emitWarning.call(this, warning, ...rest);
};
