export { LoginRateLimit } from './login-rate-limit.decorator';
export { RateLimitGuard } from './rate-limit.guard';
export { RateLimitModule } from './rate-limit.module';
export { RateLimitStorage } from './rate-limit-storage';
