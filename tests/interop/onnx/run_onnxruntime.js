// Runs every exported model of a manifest on ONNX Runtime (onnxruntime-node, CPU) and writes
// the outputs, for tests/interop/onnx/onnx_interop_test.cpp to compare with backprop predict.
//   node run_onnxruntime.js MANIFEST.json RESULTS.json
// MANIFEST: [{"name", "onnx", "features", "rows": [[x...], ...]}]; each model runs on its
// first row alone and on all its rows as one batch. RESULTS: {name: {"1": {output: [...]},
// "7": {...}}} with every output flattened row-major (int64 outputs as numbers).
'use strict';
const fs = require('fs');
const path = require('path');

let ort;
try {
  ort = require(path.join(__dirname, 'node_modules', 'onnxruntime-node'));
} catch (e) {
  console.error(`onnxruntime-node is not installed in ${__dirname}: run ` +
                '`ONNXRUNTIME_NODE_INSTALL=skip npm ci` there (scripts/test.sh does): ' + e.message);
  process.exit(3);
}

async function main() {
  const [manifestPath, resultsPath] = process.argv.slice(2);
  const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
  const results = {};
  for (const model of manifest) {
    const session = await ort.InferenceSession.create(model.onnx, {executionProviders: ['cpu']});
    results[model.name] = {};
    for (const batch of [1, model.rows.length]) {
      const data = Float32Array.from(model.rows.slice(0, batch).flat());
      const input = new ort.Tensor('float32', data, [batch, model.features]);
      const out = await session.run({[session.inputNames[0]]: input});
      const entry = {};
      for (const name of session.outputNames) {
        entry[name] = Array.from(out[name].data, (v) => Number(v));
        entry[name + '.dims'] = out[name].dims.map(Number);
      }
      results[model.name][String(batch)] = entry;
    }
  }
  fs.writeFileSync(resultsPath, JSON.stringify(results));
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : String(e));
  process.exit(1);
});
