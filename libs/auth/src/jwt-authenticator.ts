import { ExecutionContext, Injectable } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { ProblemException } from '@girder/errors';
import { Authenticator, type CurrentUser, type RequestWithUser } from '@girder/permissions';

/** Runs the passport JWT strategy and turns its failures into problem responses. */
class JwtPassportGuard extends AuthGuard('jwt') {
  override handleRequest<User = CurrentUser>(error: unknown, user: User | false): User {
    if (error instanceof Error) throw error;
    if (error)
      throw new ProblemException('UNAUTHENTICATED', 'The access token is invalid or expired.');
    if (!user)
      throw new ProblemException('UNAUTHENTICATED', 'The access token is invalid or expired.');
    return user;
  }
}

/** The `Authenticator` the permissions guard uses: bearer JWTs, checked for revocation. */
@Injectable()
export class JwtAuthenticator extends Authenticator {
  private readonly guard = new JwtPassportGuard();

  async authenticate(context: ExecutionContext): Promise<CurrentUser | null> {
    const request = context
      .switchToHttp()
      .getRequest<RequestWithUser & { headers: Record<string, unknown> }>();
    if (request.headers.authorization === undefined) return null;
    await this.guard.canActivate(context);
    return request.user ?? null;
  }
}
