/** The cache tag of everything cached about one user; every write to the user invalidates it. */
export const userCacheTag = (id: string): string => `users:${id.toLowerCase()}`;
