import { Controller, Get, Post, Query, UseGuards } from '@nestjs/common';
import type { Session } from 'sessionkit/express';
import { LoggedIn, UserSession } from './session.decorator.js';

interface AppSession {
  user?: string;
  count?: number;
}

@Controller()
export class CounterController {
  @Get('count')
  async count(@UserSession() session: Session<AppSession>): Promise<{ count: number }> {
    const { count = 0 } = await session.update((data) => ({ ...data, count: (data.count ?? 0) + 1 }));
    return { count };
  }

  @Post('login')
  login(@UserSession() session: Session<AppSession>, @Query('user') user: string): { user: string } {
    session.regenerate();
    session.set('user', user);
    return { user };
  }

  @Get('me')
  @UseGuards(LoggedIn)
  me(@UserSession() session: Session<AppSession>): { user: string | undefined } {
    return { user: session.get('user') };
  }
}
