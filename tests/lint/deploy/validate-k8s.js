// Validates every object of the given Kubernetes manifest files against the Kubernetes OpenAPI
// schemas (npm kubernetes-models), and that a kustomization's resources and generator files
// exist. Exit 1 with one line per problem.
'use strict';
const fs = require('fs');
const path = require('path');
const YAML = require('yaml');
const models = require('kubernetes-models');

let problems = 0;
const fail = (where, why) => { console.error(`${where}: ${why}`); problems++; };

// apiVersion "apps/v1" -> models["apps"]["v1"]; "v1" -> models["v1"] (core), "policy/v1" -> models["policy"]["v1"].
function modelFor(apiVersion, kind) {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : [null, apiVersion];
  const ns = group ? (models[group] || {})[version] : models[version];
  return ns && ns[kind];
}

let objects = 0;
for (const file of process.argv.slice(2)) {
  const docs = YAML.parseAllDocuments(fs.readFileSync(file, 'utf8'));
  docs.forEach((doc, i) => {
    const where = `${file} document ${i + 1}`;
    if (doc.errors.length) return fail(where, doc.errors.map(e => e.message).join('; '));
    const obj = doc.toJS();
    if (obj === null) return;
    if (obj.kind === 'Kustomization') {
      const dir = path.dirname(file);
      for (const r of obj.resources || [])
        if (!fs.existsSync(path.join(dir, r))) fail(where, `resource ${r} does not exist`);
      for (const g of obj.configMapGenerator || [])
        for (const f of g.files || []) {
          const src = f.includes('=') ? f.split('=')[1] : f;
          if (!fs.existsSync(path.join(dir, src))) fail(where, `configMapGenerator ${g.name}: ${src} does not exist`);
        }
      return;
    }
    const Model = modelFor(obj.apiVersion || '', obj.kind || '');
    if (!Model) return fail(where, `unknown apiVersion/kind ${obj.apiVersion} ${obj.kind}`);
    try {
      new Model(obj).validate();
      objects++;
    } catch (e) {
      fail(`${where} (${obj.kind} ${obj.metadata && obj.metadata.name})`, e.message);
    }
  });
}
console.log(`validate-k8s: ${objects} objects valid, ${problems} problem(s)`);
process.exit(problems ? 1 : 0);
