import { Body, Controller, Get, HttpException, Inject, Post } from '@nestjs/common';
import { answers, parseSignup } from '@queue/demo-kit';
import { SignupService } from './signup.service.js';

@Controller()
export class SignupController {
  constructor(@Inject(SignupService) private readonly signups: SignupService) {}

  @Get('health')
  health() {
    return { status: 'ok' };
  }

  /** 201 at once; the jobs run after the response. 422 names the bad field; 409 for a taken email. */
  @Post('signup')
  async signup(@Body() body: unknown) {
    const check = parseSignup(body);
    if (!check.ok) throw asHttp(answers.invalid(check));
    const user = await this.signups.signup(check.value);
    if (!user) throw asHttp(answers.duplicate());
    return answers.created(user.id).body;
  }
}

function asHttp(answer: { status: number; body: object }): HttpException {
  return new HttpException(answer.body, answer.status);
}
