import { type DynamicModule, Module } from '@nestjs/common';
import { QueueModule } from '@queue/nest';
import { DEMO_CONFIG, type DemoConfig, DemoConfigModule } from './config.js';
import { DatabaseModule } from './database.js';
import { SignupController } from './signup.controller.js';
import { CrmProcessor, EmailProcessor } from './signup.processors.js';
import { SignupService } from './signup.service.js';

@Module({})
// biome-ignore lint/complexity/noStaticOnlyClass: a Nest dynamic module is a class with a static factory
export class AppModule {
  static register(config: DemoConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        DemoConfigModule.forRoot(config),
        DatabaseModule,
        QueueModule.forRootAsync({
          inject: [DEMO_CONFIG],
          useFactory: (demo: DemoConfig) => ({
            connectionString: demo.databaseUrl,
            // Fine for a demo; a real deployment runs migrations as a release step.
            migrate: true,
            worker: { concurrency: 4 },
          }),
        }),
      ],
      controllers: [SignupController],
      providers: [SignupService, EmailProcessor, CrmProcessor],
    };
  }
}
