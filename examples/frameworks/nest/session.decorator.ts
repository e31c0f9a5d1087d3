// A parameter decorator and a guard over sessionkit/express, for Nest on its Express platform.
import { createParamDecorator, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { getSession } from 'sessionkit/express';

/** `@UserSession() session: Session<Data>`: the request's typed session (declare `Data` at the parameter). */
export const UserSession = createParamDecorator((_data: unknown, ctx: ExecutionContext) => getSession(ctx.switchToHttp().getRequest<Request>()));

/** `@UseGuards(LoggedIn)`: 403 unless the session has a user. */
export class LoggedIn implements CanActivate {
  canActivate(ctx: ExecutionContext): boolean {
    return getSession<{ user?: string }>(ctx.switchToHttp().getRequest<Request>()).get('user') !== undefined;
  }
}
