/** Injection token of the HS256 signing key (a crypto KeyObject built from JWT_SECRET). */
export const ACCESS_TOKEN_KEY = Symbol('ACCESS_TOKEN_KEY');
