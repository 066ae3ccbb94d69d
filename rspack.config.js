// `nest build <app>` bundles each app with rspack (nest-cli.json, "builder": "rspack") into
// dist/apps/<app>/main.js, one ES module. The Nest CLI's defaults already keep every package in
// node_modules external (PGlite loads its wasm at run time next to its own files), resolve the
// @app/* aliases from tsconfig.json and emit decorator metadata; this file only aligns swc's
// output with the tsc settings the specs run with (tsconfig.json).
export default function rspackConfig(defaults) {
  for (const rule of defaults.module.rules) {
    for (const use of [rule.use].flat()) {
      if (use?.loader !== 'builtin:swc-loader') continue;
      use.options.jsc.target = 'es2023';
      // tsconfig.json: "useDefineForClassFields": false — a declared but unassigned field (TypeORM
      // columns, fields a base class sets) must not be redefined as undefined
      use.options.jsc.transform.useDefineForClassFields = false;
      // class names are Nest's default provider names and logger contexts
      use.options.jsc.keepClassNames = true;
    }
  }
  return { module: defaults.module };
}
