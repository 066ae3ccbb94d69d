export const hello = () => 'platform';
//# sourceMappingURL=index.js.map