export { LoginAttemptLimiter } from './login-attempt-limiter';
export {
  AccountMailRateLimit,
  LoginRateLimit,
  RegisterRateLimit,
} from './route-rate-limit.decorator';
export { RateLimitGuard } from './rate-limit.guard';
export { RateLimitModule } from './rate-limit.module';
export { RateLimitStorage } from './rate-limit-storage';
export { SkipRateLimit } from './skip-rate-limit.decorator';
