// Types of go.mjs for the TypeScript tests that build and run the Go code.
export declare const GIN_GORM_DIR: string;
export declare function goEnv(env?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
export declare function goVersion(): string | undefined;
export declare function buildGinGorm(
  out?: string,
  options?: { onOutput?: (chunk: string) => void },
): Promise<{ srvA: string; srvB: string; submit: string; suite: string }>;
