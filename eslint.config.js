// Flat config: typescript-eslint's recommended rules, plus the house rules that matter here.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'coverage/**', 'test-results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Chat text must never reach a shell: execa is used with argv only.
      'no-restricted-syntax': [
        'error',
        { selector: "Property[key.name='shell'][value.value=true]", message: 'No shell: pass argv.' },
        { selector: "CallExpression[callee.object.name='vi'][callee.property.name='mock']", message: 'Fake the wire, not the module.' },
      ],
    },
  },
);
