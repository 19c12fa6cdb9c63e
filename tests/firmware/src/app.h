#ifndef DRE_APP_H
#define DRE_APP_H

void app_create_threads(void);

#endif
