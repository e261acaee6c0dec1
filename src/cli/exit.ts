// One exit-code convention for every command.
export const EXIT_CLEAN = 0; // nothing found, everything verified
export const EXIT_FINDINGS = 1; // findings, or a verification failure
export const EXIT_INPUT = 2; // usage error, or input that cannot be read
