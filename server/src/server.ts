// The language server (being written).
export {};
