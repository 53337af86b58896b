import { CognitoJwtVerifier } from "aws-jwt-verify";
export async function handler(): Promise<string> { return typeof CognitoJwtVerifier; }
