declare module "base64id" {
  interface Base64Id {
    /** 15 random bytes, base64url-ish: 20 characters, unguessable. */
    generateId(): string;
  }
  const base64id: Base64Id;
  export = base64id;
}
