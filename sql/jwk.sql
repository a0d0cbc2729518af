-- Public-key tokens: jwt_verify(token, key jsonb) and jwk_from_pem.
-- Keys and tokens below were generated once with python3-cryptography (random keys, fixed
-- claims: iat 2023-11-14, exp 2100-01-01); time-dependent cases use fixed past/future times.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS taskauth;
\pset null '(null)'
\set rsa '{"kty":"RSA","n":"smRNCie_ClXGGDtzbunAJ6gKS1PEhM2GdHChUZYkaQpTIgr3fgzCW6ZkM7Ir_SpCKPCFshFETVpx0lT9wieKKbg75PRsOwK8qj1XQBT059mhUJGqMKIw4EEwArUHlF0Fjy-eodlCjgvR2-jih2WNLjoUDI9Ko6GNcfypEgDufn30l_neqVS_bv6eEzBDdUj4XsNBETpZpooIAtlgEAYofdhq9TmpvMgO3FMn4LVWxgD6rqAxvnqXHI-oI52NFLBbN21K6Du46otXTRGo5tDccxXhU2SUN_Y6E3AHm16vvNjtjmqOfRm_e43psxw3Cd9ERmEbT8nivUG1fetifFQl0w","e":"AQAB","kid":"rsa-1"}'
\set rsa2 '{"kty":"RSA","n":"50U-v3dQWri-u9Sf20UPSJlKDofjVoIRrGVDccU1m9SsagmkhP7sGItfMyhp1Ee6RpPPIbakCCjt9bpFSAyJJLJiuE72fI195oiw-aX8APpP8FKPrE7Rd4GWXSs2ob7dz4vcTNdJKaWtsAfnJJnE04PHr62q2Jdlg3gkmQPF3vXIs1Uq6GLUS_SvYiWSrNt6Rn4w9gf9KhmXCUUWDH0XfGlJl4hXJ_q036XWqpZHWci9lMBlmMVXzujiq-oKPwGhXk_iplvZ5rEuF1bV9Ws1PikqAG5Z-vpjC_RDpDJfTUsbIyn-CnF3bIZvzafKRDqslTmIHNqpsXghIb_opjxn4Q","e":"AQAB","kid":"rsa-2"}'
\set ec256 '{"kty":"EC","crv":"P-256","x":"lsvHis4KvVg9RJqKtqeFiHbK44OYypOQAjzr0R8v3HQ","y":"n6Vs7ouoJL-Iqf0vk2hSSzUc-4jaYEBv-CLvUZozWuo","kid":"ec-256"}'
\set ec384 '{"kty":"EC","crv":"P-384","x":"dg6FRPIqyxQK7zRJKs0CF2pVpwISkx7MGq3LeA_doSaMEl514OFTIkNemqN5lo6Y","y":"WPrf9bGlMmF2BUT8huwXDM73643ARMrWlEu7xjdw2R_yN1wK4VoR2qAZilv6LUOo","kid":"ec-384"}'
\set ec521 '{"kty":"EC","crv":"P-521","x":"AezaHIqW9H5MvPGnFrgVotI0WxBEAxbSrWJ5P72mqqYMGw54mr8lm9MAfDI7FXGEX6XJZLwdUUafjyETDbh0Bs3i","y":"ABIoW2AsXtJ8HkGmrlY-Pq9Wdx5yWh6m9fQgjbp4dAjOJbzJsH3bPfb5ADYfj4e3S9bP5ig391SSeuydcAHOp1WN","kid":"ec-521"}'
\set ed '{"kty":"OKP","crv":"Ed25519","x":"hnA31YUshPVJkjZ-tJd2TmgLfPcDo8lm_qZWxWoCLOw","kid":"ed-1"}'
\set rsa_small '{"kty":"RSA","n":"xiJ8RCbgTvuxvkLqnV-xs_HvHJXqTCMknahF_4mdtVN0Jdj05mYCwVstOxNKRj-m-NNCVbHmA3maq74ZqQZALSorofjO23Tn_i2lt52wozsfs_m00L3_s6hREscTcVDJoDj2bwDw7WGGIcKaysnvNHwLpBdTP5sNJq70EB76Tss","e":"AQAB","kid":"rsa-small"}'
\set rsa_nokid '{"kty":"RSA","n":"smRNCie_ClXGGDtzbunAJ6gKS1PEhM2GdHChUZYkaQpTIgr3fgzCW6ZkM7Ir_SpCKPCFshFETVpx0lT9wieKKbg75PRsOwK8qj1XQBT059mhUJGqMKIw4EEwArUHlF0Fjy-eodlCjgvR2-jih2WNLjoUDI9Ko6GNcfypEgDufn30l_neqVS_bv6eEzBDdUj4XsNBETpZpooIAtlgEAYofdhq9TmpvMgO3FMn4LVWxgD6rqAxvnqXHI-oI52NFLBbN21K6Du46otXTRGo5tDccxXhU2SUN_Y6E3AHm16vvNjtjmqOfRm_e43psxw3Cd9ERmEbT8nivUG1fetifFQl0w","e":"AQAB"}'
\set ed_nokid '{"kty":"OKP","crv":"Ed25519","x":"hnA31YUshPVJkjZ-tJd2TmgLfPcDo8lm_qZWxWoCLOw"}'
\set rs256 'eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6InJzYS0xIn0.eyJzdWIiOiI0ZjlkMmM1NS03YzFlLTRhOGUtOWIxYS0wZDZiM2MyZTFmMDAiLCJpc3MiOiJodHRwczovL2lzc3Vlci5leGFtcGxlIiwiYXVkIjoiYXBpIiwiaWF0IjoxNzAwMDAwMDAwLCJleHAiOjQxMDI0NDQ4MDB9.jAfGbXVv7EEpCOhXKNeeIH9T5IIsAE44n80zONMPoc8JoxC1fT-3cRB-LOARn788WgnCIo0LOxAhBniA3sD3KC2WEzj-JYsrcLNkXYcbXTu9hEvv7_HWcw8f52fkAO2eTM_-GLGrZjEYMbUN6ROEYunAMYjzuO1wFB80e9PwEoYeEg-CC69dCbdFM9lCo6YVj-NZ6vGapqUCBpGoLI94-S6jzdhjGUvXeoaqoLNhLzOcaCHqtwKnKS9yIShUfRfYv35qq0AuEeGWnqXUvU7cpTs-SQrhhqUY3_RJNkycenj4UwXeOadDMLD6uJeXYgQoeHCBzsRH01YNYhMYPVDOMw'
\set rs384 'eyJhbGciOiJSUzM4NCIsInR5cCI6IkpXVCIsImtpZCI6InJzYS0xIn0.eyJzdWIiOiI0ZjlkMmM1NS03YzFlLTRhOGUtOWIxYS0wZDZiM2MyZTFmMDAiLCJpc3MiOiJodHRwczovL2lzc3Vlci5leGFtcGxlIiwiYXVkIjoiYXBpIiwiaWF0IjoxNzAwMDAwMDAwLCJleHAiOjQxMDI0NDQ4MDB9.NyYoOLq0e9LqF9vXOzypLP6c7HSF-75zlfiG9o3aRFuVaq7E9ZCF9Gce5g8S_epDNieCpHxdhe337d8GD-QoB6yDM2MT70OTioh59-4wl8L-D792afiHFaMdTYBrLWTAVQs67WCx3N-QwBWHPch-fhUxcJBy39fMmDFcy3mM3kTfeUtg8LT_2vPOmbOdz6MsG4MhcpgD3DMRJo545TpvELjMXi2Vz-z90pcdT3ozVnBCcV_8no2XVfVor1FSL2fhZr6TFbt0SorN7qUpSA5M4_oBSIjX9i_0kth-BAZ49tZBABFTRg_C--2QhO0M158q5Pgm74IG4CPMfp2yGEKDfQ'
\set rs512 'eyJhbGciOiJSUzUxMiIsInR5cCI6IkpXVCIsImtpZCI6InJzYS0xIn0.eyJzdWIiOiI0ZjlkMmM1NS03YzFlLTRhOGUtOWIxYS0wZDZiM2MyZTFmMDAiLCJpc3MiOiJodHRwczovL2lzc3Vlci5leGFtcGxlIiwiYXVkIjoiYXBpIiwiaWF0IjoxNzAwMDAwMDAwLCJleHAiOjQxMDI0NDQ4MDB9.glyW3-E8T2q2JgO-MzjrINyQaBh_CKD8j2f-bBnpyJTFtF5LnDe_VuiJtDRKqcGmjvHdk9rV8iNDEGPUvX-5dyLpFMLxIU6zA5uwhC_Daa2IrJD-TZggxGD6l2tlhLKpNZ7dDtoBQgxcrnNQjeEphlWRHlJNa5iUCIHNcv-lcN2B-OzbEwklFwTg0raAvdLsD-uPVUJDHbqBQujZYfz-UCiP7yt4VoOFPH-N_8lvl-1xW6egS2h7STF8bTIA11HOI7xsd9VVW7FXW8UJVPxLErKccI82Z--nXOZAeeDAjczXfADldCvn7lNwDq2vJUi29vVcEc8Vausvax0CkZCwMQ'
\set ps256 'eyJhbGciOiJQUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6InJzYS0xIn0.eyJzdWIiOiI0ZjlkMmM1NS03YzFlLTRhOGUtOWIxYS0wZDZiM2MyZTFmMDAiLCJpc3MiOiJodHRwczovL2lzc3Vlci5leGFtcGxlIiwiYXVkIjoiYXBpIiwiaWF0IjoxNzAwMDAwMDAwLCJleHAiOjQxMDI0NDQ4MDB9.Z6WzZqiFrWX2IBsbzZgphytJ8hXn6NinwYiKCxaBI5S03PwQFK9krrkOP6vdgIgg8ilx35VMdkPQ12mjW6YN_ZhLaWFfolWb9q1G8Q5vXnM_DJQoQxP6M4e-b-ToKTNC3MzwHbbnD9u0B8Dhms9lIpMlllLuVl3loYFQxFPdyLmGFsIeaADrZnKtlL8J7Th0HRsYi_4EmRdeYnHxg9zEqfYScE0cGzELGk87mE1gary1tRC9siKIDW8dM-SoJpXBFimiuhYOSX4x6o9wp-18vLo_-VRdIEm6z-VMdyxoCVIo_Fgi_wZp81ONoX2AgBs_A1ZslzOqAQ06wu3U_xrddw'
\set ps384 'eyJhbGciOiJQUzM4NCIsInR5cCI6IkpXVCIsImtpZCI6InJzYS0xIn0.eyJzdWIiOiI0ZjlkMmM1NS03YzFlLTRhOGUtOWIxYS0wZDZiM2MyZTFmMDAiLCJpc3MiOiJodHRwczovL2lzc3Vlci5leGFtcGxlIiwiYXVkIjoiYXBpIiwiaWF0IjoxNzAwMDAwMDAwLCJleHAiOjQxMDI0NDQ4MDB9.e-uMYP8dIbnuMxJqlp1BhyrjfAAb5hyxtpJKqmzAyOr6JlqivohpcrbvSHAoRpdxdw0NyFfCzGVFutv6qSOr0hceEN9do14TaalhBtgNRDcXTN0lCu9RWSR7US-4MdtwEvgX-Hj5rxpSwHAKYUzVcsT6zsijAurGE9ZLY-d_QJ9GMz0YH0ILp5do2D_b8WaPEAB_-JBSGWu9YbmE9fGiatcwFDOw139xD5A2wi-IwJzNeUWmWwNwEh9h1n__Z6hjuaJU-SVxaRQZmCxwmBbIRCMHGJXHBdcjiIg7d3RBtyvqzS41DraCjQ3RdyEpL8cgY2GKfEpv4Gm5dD_-dAy2AA'
\set ps512 'eyJhbGciOiJQUzUxMiIsInR5cCI6IkpXVCIsImtpZCI6InJzYS0xIn0.eyJzdWIiOiI0ZjlkMmM1NS03YzFlLTRhOGUtOWIxYS0wZDZiM2MyZTFmMDAiLCJpc3MiOiJodHRwczovL2lzc3Vlci5leGFtcGxlIiwiYXVkIjoiYXBpIiwiaWF0IjoxNzAwMDAwMDAwLCJleHAiOjQxMDI0NDQ4MDB9.I-7xJHg6dX-stZnWWQaJWYpEMzQMWDrYLUu_p5ku5o21MbfG5Ko3zeO3Cby0AYIYlAXPge5ampo74aeug1CpyN8Fts08Tgr4FOoiFdHVbswcgCxAefZkv95Rcxenn6LE0tQqoWNB8KImv7a3dJ_5HosLS8KNzUtpawRvVo7gbmla_xEYXuafEOoCkERx5FdTzPL0EW4kMvCrf1ECURbqwPlnhs9B3UYS3bTsazd-g7ZB1dBIbgG1F1oz7v1sd1GpRERcI1s5aBrLEB8FOOcX_XKEUnuF2P98ovstqgJ6OrxFUwyWSqKWMeVxCyrF_7SqN75AGx0tfOT94-qv8tCnPA'
\set es256 'eyJhbGciOiJFUzI1NiIsImtpZCI6ImVjLTI1NiJ9.eyJzdWIiOiI0ZjlkMmM1NS03YzFlLTRhOGUtOWIxYS0wZDZiM2MyZTFmMDAiLCJpc3MiOiJodHRwczovL2lzc3Vlci5leGFtcGxlIiwiYXVkIjoiYXBpIiwiaWF0IjoxNzAwMDAwMDAwLCJleHAiOjQxMDI0NDQ4MDB9.N0cxbq96OCiK8YPPKzjtChb4_9vbQoKcjBKBPx1s-8VP42QD5t-UqNm6sQe_EGAsdeNJAo-BjurTXqz-JfUgLg'
\set es384 'eyJhbGciOiJFUzM4NCIsImtpZCI6ImVjLTM4NCJ9.eyJzdWIiOiI0ZjlkMmM1NS03YzFlLTRhOGUtOWIxYS0wZDZiM2MyZTFmMDAiLCJpc3MiOiJodHRwczovL2lzc3Vlci5leGFtcGxlIiwiYXVkIjoiYXBpIiwiaWF0IjoxNzAwMDAwMDAwLCJleHAiOjQxMDI0NDQ4MDB9.EKIgOIrCI2DlPqwlBOfYgm7QEhwfGdDfcV8cdLRt5iyy0zHp5gci3TKbFeavpnmDB-ZOjw9hcp1hQ-DAhu7sAoDyBjdTj9Di84RGzoIdAcxvbAzG_Ns21w-_M1IEdLH2'
\set es512 'eyJhbGciOiJFUzUxMiIsImtpZCI6ImVjLTUyMSJ9.eyJzdWIiOiI0ZjlkMmM1NS03YzFlLTRhOGUtOWIxYS0wZDZiM2MyZTFmMDAiLCJpc3MiOiJodHRwczovL2lzc3Vlci5leGFtcGxlIiwiYXVkIjoiYXBpIiwiaWF0IjoxNzAwMDAwMDAwLCJleHAiOjQxMDI0NDQ4MDB9.AY6VjCMLHvGFKPx647lkeb9JCR2Nh-ZQpJ5kYdEuP_MAkJJ-_GXivoPl_RV5dPTH8_h-tCSErun8WehOfdS_5gU9ARUubjpJxq0NcnxWV8fSV5tr83gJmoCi78dSojQrEFx2m30RMjwnBreiNBKmJXXJCaK3Q6WBhyJZRPb3bapLRhHT'
\set eddsa 'eyJhbGciOiJFZERTQSIsImtpZCI6ImVkLTEifQ.eyJzdWIiOiI0ZjlkMmM1NS03YzFlLTRhOGUtOWIxYS0wZDZiM2MyZTFmMDAiLCJpc3MiOiJodHRwczovL2lzc3Vlci5leGFtcGxlIiwiYXVkIjoiYXBpIiwiaWF0IjoxNzAwMDAwMDAwLCJleHAiOjQxMDI0NDQ4MDB9.uddFw8vJM-gBslQB5Mj7ewhBhZoZM9j4F5DOMp8xWz2bGwJeUoZxHTlOzpL4VowgWy22kZU3dwXGA6bkDDqkAg'
\set ed25519_alg 'eyJhbGciOiJFZDI1NTE5Iiwia2lkIjoiZWQtMSJ9.eyJzdWIiOiI0ZjlkMmM1NS03YzFlLTRhOGUtOWIxYS0wZDZiM2MyZTFmMDAiLCJpc3MiOiJodHRwczovL2lzc3Vlci5leGFtcGxlIiwiYXVkIjoiYXBpIiwiaWF0IjoxNzAwMDAwMDAwLCJleHAiOjQxMDI0NDQ4MDB9.Dd6ZiJ4L43wzX5zLvUB4VS7bzw7D_YJB2JfYZCaRFf1pmDXbAmjCsVLBJv5RFhOw8ordraqcdemcftv1TKEOAA'
\set rs256_nokid 'eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI0ZjlkMmM1NS03YzFlLTRhOGUtOWIxYS0wZDZiM2MyZTFmMDAiLCJpc3MiOiJodHRwczovL2lzc3Vlci5leGFtcGxlIiwiYXVkIjoiYXBpIiwiaWF0IjoxNzAwMDAwMDAwLCJleHAiOjQxMDI0NDQ4MDB9.agjJL1hg7lD4Z2mYCfPhWRPhhaamIhEzG-631nvA1wbWzvewLmU8jT_LCZMCu68nYCBTvJdwHyplnuDYEOOXC6BUDzmYrmeC4-wucFtmChzIVKVAg1cMeokP9iszy1nAZsaEwPsqAUhFyI-KMrQN4P8m4oo8CfREAPSCzMd46iQNRUZLrnV0kS6vUxdQ2gAIGWi7QosjbNyjcLJpwUeoFATLRhbVmgRwpLCimf895prYlkI7vTAjSQ0FP67ot6QOTj22led-kkpmKcoU0PUexkn_BTaGIr2BH7iBHouswLDwPDIZnVBsC1HABk592xpJlX79-KaPRYDygd4aWoGgBQ'
\set eddsa_nokid 'eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiI0ZjlkMmM1NS03YzFlLTRhOGUtOWIxYS0wZDZiM2MyZTFmMDAiLCJpc3MiOiJodHRwczovL2lzc3Vlci5leGFtcGxlIiwiYXVkIjoiYXBpIiwiaWF0IjoxNzAwMDAwMDAwLCJleHAiOjQxMDI0NDQ4MDB9.PQeaU0G2kWvILeCai31GhemBVxK1lfh5p6rY2ITGaaw3t7Kevg4Gk77rNJwiispf9BuqHx2SFmHnkcZAaQZdBw'
\set rs256_by_rsa2_as_rsa1 'eyJhbGciOiJSUzI1NiIsImtpZCI6InJzYS0xIn0.eyJzdWIiOiI0ZjlkMmM1NS03YzFlLTRhOGUtOWIxYS0wZDZiM2MyZTFmMDAiLCJpc3MiOiJodHRwczovL2lzc3Vlci5leGFtcGxlIiwiYXVkIjoiYXBpIiwiaWF0IjoxNzAwMDAwMDAwLCJleHAiOjQxMDI0NDQ4MDB9.WnbjRlXBk8BizUneKBr-JMnh4yCawmE-FeqKMktnJrVbU5xAo4T4-ViQiPH6VQXVz0ILppsB2RveN57nRWf3XnIu-HG4p1chvcXI8qTg2H_hEa8HdjZ-7RcJqdlUGunC12pvsGyfv7elG62XRFYJL7CEJrvUjfYuRj6rqd-ZiKpQd1V0pNPhciOZRBsTfzC7rhl-9d1K5AVb5ueTX4Be5l4WI_UstrY8moxSM7dixZ5mtV4W_z9obfC6-2RGKwxAw1m-38g7d0bbi8CL0iFWHcfjP9ZS6Xys7Q4OVoaGUcf0G67hdNIi7xAkN1uBP5du3MxzvzrP35OkB-M7--Pj9w'
\set rsa_pem '-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAsmRNCie/ClXGGDtzbunA\nJ6gKS1PEhM2GdHChUZYkaQpTIgr3fgzCW6ZkM7Ir/SpCKPCFshFETVpx0lT9wieK\nKbg75PRsOwK8qj1XQBT059mhUJGqMKIw4EEwArUHlF0Fjy+eodlCjgvR2+jih2WN\nLjoUDI9Ko6GNcfypEgDufn30l/neqVS/bv6eEzBDdUj4XsNBETpZpooIAtlgEAYo\nfdhq9TmpvMgO3FMn4LVWxgD6rqAxvnqXHI+oI52NFLBbN21K6Du46otXTRGo5tDc\ncxXhU2SUN/Y6E3AHm16vvNjtjmqOfRm/e43psxw3Cd9ERmEbT8nivUG1fetifFQl\n0wIDAQAB\n-----END PUBLIC KEY-----\n'
\set hs256_pem 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI0ZjlkMmM1NS03YzFlLTRhOGUtOWIxYS0wZDZiM2MyZTFmMDAiLCJpc3MiOiJodHRwczovL2lzc3Vlci5leGFtcGxlIiwiYXVkIjoiYXBpIiwiaWF0IjoxNzAwMDAwMDAwLCJleHAiOjQxMDI0NDQ4MDB9.0Op5apdbsE3c_JTLR1q6w0FscVmy5D_2haww9ZdkW3E'
\set hs256_jwk 'eyJhbGciOiJIUzI1NiIsImtpZCI6InJzYS0xIn0.eyJzdWIiOiI0ZjlkMmM1NS03YzFlLTRhOGUtOWIxYS0wZDZiM2MyZTFmMDAiLCJpc3MiOiJodHRwczovL2lzc3Vlci5leGFtcGxlIiwiYXVkIjoiYXBpIiwiaWF0IjoxNzAwMDAwMDAwLCJleHAiOjQxMDI0NDQ4MDB9.3kbx89mmFUlpz9IS9YN_OXWOLqaAk9OTKtPqRGj58rA'
\set none_tok 'eyJhbGciOiJub25lIn0.eyJzdWIiOiAiNGY5ZDJjNTUtN2MxZS00YThlLTliMWEtMGQ2YjNjMmUxZjAwIiwgImlzcyI6ICJodHRwczovL2lzc3Vlci5leGFtcGxlIiwgImF1ZCI6ICJhcGkiLCAiaWF0IjogMTcwMDAwMDAwMCwgImV4cCI6IDQxMDI0NDQ4MDB9.eA'
\set es256_der 'eyJhbGciOiJFUzI1NiIsImtpZCI6ImVjLTI1NiJ9.eyJzdWIiOiI0ZjlkMmM1NS03YzFlLTRhOGUtOWIxYS0wZDZiM2MyZTFmMDAiLCJpc3MiOiJodHRwczovL2lzc3Vlci5leGFtcGxlIiwiYXVkIjoiYXBpIiwiaWF0IjoxNzAwMDAwMDAwLCJleHAiOjQxMDI0NDQ4MDB9.MEQCIE1BOSOOGEpWvBLpXvKDXyo6_xka22MHFt006DAQrn96AiA0hCCGGrmWPRyT07441sZHhS8v2nmnw1WlgPfW-g9_tQ'
\set rs256_kid_ec 'eyJhbGciOiJSUzI1NiIsImtpZCI6ImVjLTI1NiJ9.eyJzdWIiOiI0ZjlkMmM1NS03YzFlLTRhOGUtOWIxYS0wZDZiM2MyZTFmMDAiLCJpc3MiOiJodHRwczovL2lzc3Vlci5leGFtcGxlIiwiYXVkIjoiYXBpIiwiaWF0IjoxNzAwMDAwMDAwLCJleHAiOjQxMDI0NDQ4MDB9.Nyi4VhXI0x1wi2otinphccfA9-6Mdhyv71NoRSKarkq2b-lUmbhLJbHInHNZU420MX2R8YElfn9WOgOc9AnAuYu3uQ888SnwnDIt_jJvy7YXEVkOPohpAwB6MA3TYth1HZ912ursiD-Fuggx9RcsEUX-HxxBrhZH1JHDRy8UUhMkwFmmfwNKwAoBzijYo_TL6ZVnM8ln2Tlneh9WyDjeKth5uANABhBnSkbmXJT9VwTPaSkIyG_PTjHjsRV3-ofo69hbmrfjoAV80bphcN8aw8NnL-79SlOYrHSzTuFeKSVlZJWYxGTSJeMMXCEAeGeOsMLFfDhoWMlxO4VGeVFoJw'
\set es256_as_es384 'eyJhbGciOiJFUzM4NCIsImtpZCI6ImVjLTI1NiJ9.eyJzdWIiOiI0ZjlkMmM1NS03YzFlLTRhOGUtOWIxYS0wZDZiM2MyZTFmMDAiLCJpc3MiOiJodHRwczovL2lzc3Vlci5leGFtcGxlIiwiYXVkIjoiYXBpIiwiaWF0IjoxNzAwMDAwMDAwLCJleHAiOjQxMDI0NDQ4MDB9.PoZLM4DR-3c462-Le64yLJ1QLpFBVtvfjBpnioSWfCICtQcF9sJ4WIVY8_xiiQYgQy5cnWuWdIqNM6vOZyVz-g'
\set es256_crit 'eyJhbGciOiJFUzI1NiIsImtpZCI6ImVjLTI1NiIsImNyaXQiOlsiZXhwIl19.eyJzdWIiOiI0ZjlkMmM1NS03YzFlLTRhOGUtOWIxYS0wZDZiM2MyZTFmMDAiLCJpc3MiOiJodHRwczovL2lzc3Vlci5leGFtcGxlIiwiYXVkIjoiYXBpIiwiaWF0IjoxNzAwMDAwMDAwLCJleHAiOjQxMDI0NDQ4MDB9.Q2VixGM4bwBWnz8jUdI2tS5eTtWiql25YmWTt7SjkJX_QB5qVzlYTSUjaHXDli7acyNhbFfAf-hJVryFjQ85xQ'
\set es256_kidnum 'eyJhbGciOiJFUzI1NiIsImtpZCI6N30.eyJzdWIiOiI0ZjlkMmM1NS03YzFlLTRhOGUtOWIxYS0wZDZiM2MyZTFmMDAiLCJpc3MiOiJodHRwczovL2lzc3Vlci5leGFtcGxlIiwiYXVkIjoiYXBpIiwiaWF0IjoxNzAwMDAwMDAwLCJleHAiOjQxMDI0NDQ4MDB9.PNWZ3seLBsViPXItLlnDovHUwoMRx-4-981o_TtBvZamKr0bPQliLRW2z16Wc6DY4uPUdMiJJ0ClbnAHBt9Bag'
\set es256_expired 'eyJhbGciOiJFUzI1NiIsImtpZCI6ImVjLTI1NiJ9.eyJzdWIiOiI0ZjlkMmM1NS03YzFlLTRhOGUtOWIxYS0wZDZiM2MyZTFmMDAiLCJpc3MiOiJodHRwczovL2lzc3Vlci5leGFtcGxlIiwiYXVkIjoiYXBpIiwiaWF0IjoxNzAwMDAwMDAwLCJleHAiOjE3MDAwMDAxMDB9.oUQbvfP5bdF8QdRH7qg9lLi2K4OrOvah9sbcVUkiLojfejR19uBgbuJpBEanHm7HuDhzCTjqz71KyZzAQiD__A'
\set es256_nbf 'eyJhbGciOiJFUzI1NiIsImtpZCI6ImVjLTI1NiJ9.eyJzdWIiOiI0ZjlkMmM1NS03YzFlLTRhOGUtOWIxYS0wZDZiM2MyZTFmMDAiLCJpc3MiOiJodHRwczovL2lzc3Vlci5leGFtcGxlIiwiYXVkIjoiYXBpIiwiaWF0IjoxNzAwMDAwMDAwLCJleHAiOjQxMDI0NDQ4MDAsIm5iZiI6NDEwMjQ0MDAwMH0.NpHnslR_NlsAnr8mCB_Ogi0ELgWL87Ygl2MyIO3FNsjpO0CZFBrkbiB0ee6VsI9OglLEHwuByfk0Gc0xqjr9kQ'
\set es256_iatfuture 'eyJhbGciOiJFUzI1NiIsImtpZCI6ImVjLTI1NiJ9.eyJzdWIiOiI0ZjlkMmM1NS03YzFlLTRhOGUtOWIxYS0wZDZiM2MyZTFmMDAiLCJpc3MiOiJodHRwczovL2lzc3Vlci5leGFtcGxlIiwiYXVkIjoiYXBpIiwiaWF0Ijo0MTAyNDQwMDAwLCJleHAiOjQxMDI0NDQ4MDB9.zzGe7wTj2UcxlMg-u8bvAaVSSmCZPztgiKo8K_zWXgqc493gua7_jIUNyAc1ib5PtmNlYaClsVqR7KSzOWDZDA'
\set es256_expstr 'eyJhbGciOiJFUzI1NiIsImtpZCI6ImVjLTI1NiJ9.eyJzdWIiOiI0ZjlkMmM1NS03YzFlLTRhOGUtOWIxYS0wZDZiM2MyZTFmMDAiLCJpc3MiOiJodHRwczovL2lzc3Vlci5leGFtcGxlIiwiYXVkIjoiYXBpIiwiaWF0IjoxNzAwMDAwMDAwLCJleHAiOiI0MTAyNDQ0ODAwIn0.yB8rBjODxqRFJd8y1SiFQDRBXgtNJvJHoi6YteVFRrqcQqKqwHqlnGOjEdtZa9G8naHGYA6IxkJEsNTSbv18tg'
\set es256_audarr 'eyJhbGciOiJFUzI1NiIsImtpZCI6ImVjLTI1NiJ9.eyJzdWIiOiI0ZjlkMmM1NS03YzFlLTRhOGUtOWIxYS0wZDZiM2MyZTFmMDAiLCJpc3MiOiJodHRwczovL2lzc3Vlci5leGFtcGxlIiwiYXVkIjpbIndlYiIsImFwaSJdLCJpYXQiOjE3MDAwMDAwMDAsImV4cCI6NDEwMjQ0NDgwMH0.XH6E0Gl0U_oaJ4EMp9lf1ukzUGlawu77vZjGt2WQs8OrREApZ5fMkf_qpl1BqfN30eVfVmRvt6quLNlAZFUhVA'
\set es256_array 'eyJhbGciOiJFUzI1NiIsImtpZCI6ImVjLTI1NiJ9.WzEsMl0.AAd4-oTWI-IWQS75al2UBcWq1ZdZ-k9SAlzEeT8L7MJ1SuFvV1DW_n5-jPHp3b72jY83AXi2c0XLtHzlouX2Jw'
\set eddsa_rich 'eyJhbGciOiJFZERTQSIsImtpZCI6ImVkLTEifQ.eyJzdWIiOiLDvC3lkI3liY0t8J-YgCIsIm4iOlsxLDIuNSwtMzAwLjAseyJkZWVwIjp7ImVyIjpbdHJ1ZSxmYWxzZSxudWxsXX19XSwicyI6ImFcImJcXGPDqSJ9.4D2JMGoq14-QNkgRrLpm88xAdyrIYwzzM2aL0p3JKf1zkzY30dGn5j6tOPYEWvAhDXrBUUfLqAWHN-c0tZLeAg'
\set es256k 'eyJhbGciOiJFUzI1NksifQ.eyJzdWIiOiI0ZjlkMmM1NS03YzFlLTRhOGUtOWIxYS0wZDZiM2MyZTFmMDAiLCJpc3MiOiJodHRwczovL2lzc3Vlci5leGFtcGxlIiwiYXVkIjoiYXBpIiwiaWF0IjoxNzAwMDAwMDAwLCJleHAiOjQxMDI0NDQ4MDB9.iKINH_-DSv_dNEXuxX_OT5ysFGirAS2IxfIyCANOT3BN1b7d-vxQSs1J5otXifviDBx1K1k6WSTg0gZX8bd6NQ'
\set ec_pem '-----BEGIN PUBLIC KEY-----\nMHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEdg6FRPIqyxQK7zRJKs0CF2pVpwISkx7M\nGq3LeA/doSaMEl514OFTIkNemqN5lo6YWPrf9bGlMmF2BUT8huwXDM73643ARMrW\nlEu7xjdw2R/yN1wK4VoR2qAZilv6LUOo\n-----END PUBLIC KEY-----\n'
\set ed_pem '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAhnA31YUshPVJkjZ+tJd2TmgLfPcDo8lm/qZWxWoCLOw=\n-----END PUBLIC KEY-----\n'
\set rsa_pkcs1_pem '-----BEGIN RSA PUBLIC KEY-----\nMIIBCgKCAQEAsmRNCie/ClXGGDtzbunAJ6gKS1PEhM2GdHChUZYkaQpTIgr3fgzC\nW6ZkM7Ir/SpCKPCFshFETVpx0lT9wieKKbg75PRsOwK8qj1XQBT059mhUJGqMKIw\n4EEwArUHlF0Fjy+eodlCjgvR2+jih2WNLjoUDI9Ko6GNcfypEgDufn30l/neqVS/\nbv6eEzBDdUj4XsNBETpZpooIAtlgEAYofdhq9TmpvMgO3FMn4LVWxgD6rqAxvnqX\nHI+oI52NFLBbN21K6Du46otXTRGo5tDccxXhU2SUN/Y6E3AHm16vvNjtjmqOfRm/\ne43psxw3Cd9ERmEbT8nivUG1fetifFQl0wIDAQAB\n-----END RSA PUBLIC KEY-----\n'
\set rsa_small_pem '-----BEGIN PUBLIC KEY-----\nMIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDGInxEJuBO+7G+QuqdX7Gz8e8c\nlepMIySdqEX/iZ21U3Ql2PTmZgLBWy07E0pGP6b400JVseYDeZqrvhmpBkAtKiuh\n+M7bdOf+LaW3nbCjOx+z+bTQvf+zqFESxxNxUMmgOPZvAPDtYYYhwprKye80fAuk\nF1M/mw0mrvQQHvpOywIDAQAB\n-----END PUBLIC KEY-----\n'
\set k1_pem '-----BEGIN PUBLIC KEY-----\nMFYwEAYHKoZIzj0CAQYFK4EEAAoDQgAEEhlBlA/GfrGg3nxW+DvmRkf2J9S68FkO\nUWSXif4kaLbzHzuFq9NvEZ2RDOGf700BhxJyMGj5AuHfOaIti680xA==\n-----END PUBLIC KEY-----\n'
\set ed_private_pem '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIMxMJrCqb0l1Dtcm5nkhiy4GFz3dIEe9DLOv8M+0KBc0\n-----END PRIVATE KEY-----\n'
\set ec384_jwk '{"kty":"EC","crv":"P-384","x":"dg6FRPIqyxQK7zRJKs0CF2pVpwISkx7MGq3LeA_doSaMEl514OFTIkNemqN5lo6Y","y":"WPrf9bGlMmF2BUT8huwXDM73643ARMrWlEu7xjdw2R_yN1wK4VoR2qAZilv6LUOo"}'
\set ed_jwk '{"kty":"OKP","crv":"Ed25519","x":"hnA31YUshPVJkjZ-tJd2TmgLfPcDo8lm_qZWxWoCLOw"}'
\set ec_private '{"kty":"EC","crv":"P-256","x":"lsvHis4KvVg9RJqKtqeFiHbK44OYypOQAjzr0R8v3HQ","y":"n6Vs7ouoJL-Iqf0vk2hSSzUc-4jaYEBv-CLvUZozWuo","kid":"ec-256","d":"hsEJVuT01NQ7drOn-nQtgi-KXD-XYUdH7HHelaeFG4A"}'

-- Every algorithm verifies with its JWK and returns the claims exactly.
SELECT alg, taskauth.jwt_verify(tok, key) = '{"sub":"4f9d2c55-7c1e-4a8e-9b1a-0d6b3c2e1f00","iss":"https://issuer.example","aud":"api","iat":1700000000,"exp":4102444800}'::jsonb AS ok
FROM (VALUES ('RS256', :'rs256', :'rsa'::jsonb), ('RS384', :'rs384', :'rsa'), ('RS512', :'rs512', :'rsa'),
             ('PS256', :'ps256', :'rsa'), ('PS384', :'ps384', :'rsa'), ('PS512', :'ps512', :'rsa'),
             ('ES256', :'es256', :'ec256'), ('ES384', :'es384', :'ec384'), ('ES512', :'es512', :'ec521'),
             ('EdDSA', :'eddsa', :'ed'), ('Ed25519', :'ed25519_alg', :'ed')) AS t(alg, tok, key);
SELECT taskauth.jwt_verify(:'eddsa', :'ed'::jsonb);

-- A JWKS: selection by kid, and without kid only keys whose type fits the algorithm.
\set jwks '{"keys":[' :ec256 ',' :rsa ',' :ed ',' :rsa2 ',' :ec384 ',' :ec521 ']}'
SELECT taskauth.jwt_verify(t, :'jwks'::jsonb) ->> 'sub' AS sub
FROM unnest(ARRAY[:'rs256', :'ps512', :'es256', :'es384', :'es512', :'eddsa', :'rs256_nokid', :'eddsa_nokid']) AS t;
-- A lone JWK without kid verifies a token with or without kid; one with a kid needs it to match.
SELECT taskauth.jwt_verify(:'rs256', :'rsa_nokid'::jsonb) ->> 'sub' AS sub;
SELECT taskauth.jwt_verify(:'rs256_nokid', :'rsa'::jsonb) ->> 'sub' AS sub;
SELECT taskauth.jwt_verify(:'eddsa', :'rsa2'::jsonb);
-- A set's key without kid is not picked for a token that names a kid.
SELECT taskauth.jwt_verify(:'eddsa', jsonb_build_object('keys', jsonb_build_array(:'ed_nokid'::jsonb)));

-- Classic attacks.
-- HS256 signed with the public key's PEM or JWK text, offered the JWK: refused.
SELECT taskauth.jwt_verify(:'hs256_pem', :'rsa'::jsonb);
SELECT taskauth.jwt_verify(:'hs256_jwk', :'rsa'::jsonb);
SELECT taskauth.jwt_verify(:'hs256_jwk', :'jwks'::jsonb);
-- The same texts offered as HMAC secrets (the text overload, which an uncast literal picks):
-- refused before any MAC, in verify and in sign alike.
SELECT taskauth.jwt_verify(:'hs256_jwk', :'rsa');
SELECT taskauth.jwt_verify(:'hs256_pem', '  -----BEGIN PUBLIC KEY-----' || chr(10) || 'MIIB');
SELECT taskauth.jwt_sign('{"sub":"x"}', :'rsa');
-- Every common spelling of a public key is recognised (normalised first), in jwt_verify,
-- jwt_sign and add_signing_key; 0.1.0 took all of these but the plain PEM and JWK for secrets.
CREATE FUNCTION pg_temp.as_secret(secret text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    verdicts text[] := '{}';
BEGIN
    BEGIN
        PERFORM taskauth.jwt_verify('eyJhbGciOiJIUzI1NiJ9.e30.ZRrHA1JJJW8opsbCGfG_HACGpVUMN_a9IV7pAx_Zmeo', secret);
        verdicts := verdicts || 'verify ok'::text;
    EXCEPTION WHEN OTHERS THEN
        verdicts := verdicts || (SQLSTATE || ' ' || SQLERRM);
    END;
    BEGIN
        PERFORM taskauth.jwt_sign('{}', secret);
        verdicts := verdicts || 'sign ok'::text;
    EXCEPTION WHEN OTHERS THEN
        verdicts := verdicts || (SQLSTATE || ' ' || SQLERRM);
    END;
    BEGIN
        PERFORM taskauth.add_signing_key(secret);
        RAISE EXCEPTION USING ERRCODE = 'P0004';	-- undo the insert
    EXCEPTION WHEN assert_failure THEN
        verdicts := verdicts || 'add ok'::text;
    WHEN OTHERS THEN
        verdicts := verdicts || (SQLSTATE || ' ' || SQLERRM);
    END;
    RETURN array_to_string(ARRAY(SELECT DISTINCT unnest(verdicts)), '; ');
END
$$;
SELECT name, pg_temp.as_secret(secret) FROM (VALUES
  ('PEM after a byte order mark', E'\uFEFF-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n'),
  ('PEM after other text', E'subject=CN = taskauth test\n-----BEGIN CERTIFICATE-----\nMIIBRjCB\n-----END CERTIFICATE-----\n'),
  ('JWK with escaped member names', '{"k\u0074y":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}'),
  ('JWK Set with an escaped name', '{"\u006beys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}'),
  ('JWK in an array', '[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]'),
  ('OpenSSH public key', 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGrbgGX1L7wwgPN+pqhBlKUWiUz+bLaSOFPVkt1SeYJd alice@example'),
  ('authorized_keys line with options', 'no-pty ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGrbgGX1L7wwgPN+pqhBlKUWiUz+bLaSOFPVkt1SeYJd'),
  ('bare base64 of an SPKI (RFC 8410 10.1)', 'MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE='),
  ('base64url SPKI, no padding, wrapped', E'MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrB\nZ9w7lshQhqowtrbLDFw4rXAxZuE'),
  ('bare base64 of a certificate', 'MIIBRjCB+aADAgECAhQONdLOItyRcc09zkgHGsBhsREq1DAFBgMrZXAwGDEWMBQGA1UEAwwNdGFza2F1dGggdGVzdDAgFw0yNjExMzAyMTEwMTFaGA8yMTI2MTEwNjIxMTAxMVowGDEWMBQGA1UEAwwNdGFza2F1dGggdGVzdDAqMAUGAytlcAMhAAj05HSznemcWk3qybdyezmIn++vtdvU3pR71x7L3vaEo1MwUTAdBgNVHQ4EFgQU7xKo5Ofnbpn/P2/jG38oMDOzdmYwHwYDVR0jBBgwFoAU7xKo5Ofnbpn/P2/jG38oMDOzdmYwDwYDVR0TAQH/BAUwAwEB/zAFBgMrZXADQQBZbqAMgAfsZt5kmiVNzL/OHg8LLGVD4M6H1JhnhmAO+MabtXd5rx2xO9QY0O9V/J2QSnvuAhSpChShL0+poQoA'),
  -- ordinary secrets stay secrets
  ('random base64 secret', 'MzQ1Njc4OTBhYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0NTY3ODk='),
  ('hex secret', '8f2c5b0e1d7a4c3b9e6f0a1d2c3b4a5968778695a4b3c2d1e0f9e8d7c6b5a493'),
  ('JSON that is no key', '{"k":"0123456789abcdef0123456789abcdef"}')
) v(name, secret);
-- alg none.
SELECT taskauth.jwt_verify(:'none_tok', :'rsa'::jsonb);
-- RSA token against an EC key, EC token against an RSA key, EdDSA against EC.
SELECT taskauth.jwt_verify(:'rs256_nokid', :'ec256'::jsonb);
SELECT taskauth.jwt_verify(:'es256', :'rsa_nokid'::jsonb);
SELECT taskauth.jwt_verify(:'eddsa_nokid', :'ec256'::jsonb);
SELECT taskauth.jwt_verify(:'rs256_nokid', :'ed'::jsonb);
-- An RSA token whose kid names the EC key of a set.
SELECT taskauth.jwt_verify(:'rs256_kid_ec', :'jwks'::jsonb);
-- A P-256 key's token relabelled ES384: the curve fixes the algorithm.
SELECT taskauth.jwt_verify(:'es256_as_es384', :'jwks'::jsonb);
-- Wrong key with the same kid.
SELECT taskauth.jwt_verify(:'rs256_by_rsa2_as_rsa1', :'jwks'::jsonb);
SELECT taskauth.jwt_verify(:'rs256_by_rsa2_as_rsa1', :'rsa'::jsonb);
-- Unknown kid.
SELECT taskauth.jwt_verify(:'rs256', jsonb_build_object('keys', jsonb_build_array(:'rsa2'::jsonb)));
-- The algorithm is bound to the key: a JWK "alg" narrows it to one.
SELECT taskauth.jwt_verify(:'ps256', :'rsa'::jsonb || '{"alg":"RS256"}') ;
SELECT taskauth.jwt_verify(:'rs256', :'rsa'::jsonb || '{"alg":"RS256"}') ->> 'sub' AS sub;
-- ECDSA signatures are JOSE R||S; DER is refused. ES256K is not supported.
SELECT taskauth.jwt_verify(:'es256_der', :'ec256'::jsonb);
SELECT taskauth.jwt_verify(:'es256k', :'ec256'::jsonb);
-- Header rules shared with HMAC tokens.
SELECT taskauth.jwt_verify(:'es256_crit', :'ec256'::jsonb);
SELECT taskauth.jwt_verify(:'es256_kidnum', :'ec256'::jsonb);
SELECT taskauth.jwt_verify('abc', :'ec256'::jsonb);
SELECT taskauth.jwt_verify(:'es256' || '=', :'ec256'::jsonb);
SELECT taskauth.jwt_verify(:'es256_array', :'ec256'::jsonb);
-- Tampering.
SELECT taskauth.jwt_verify(split_part(:'es256', '.', 1) || '.' || split_part(:'es256_audarr', '.', 2) || '.' ||
                           split_part(:'es256', '.', 3), :'ec256'::jsonb);
SELECT taskauth.jwt_verify(split_part(:'rs256', '.', 1) || '.' || split_part(:'rs256', '.', 2) || '.' ||
                           split_part(:'rs384', '.', 3), :'rsa'::jsonb);
SELECT taskauth.jwt_verify(left(:'eddsa', -2), :'ed'::jsonb);

-- Claims: the same checks as HMAC tokens.
SELECT taskauth.jwt_verify(:'es256_expired', :'ec256'::jsonb);
SELECT taskauth.jwt_verify(:'es256_nbf', :'ec256'::jsonb);
SELECT taskauth.jwt_verify(:'es256_iatfuture', :'ec256'::jsonb);
SELECT taskauth.jwt_verify(:'es256_expstr', :'ec256'::jsonb);
SELECT taskauth.jwt_verify(:'es256', :'ec256'::jsonb, audience => 'api', issuer => 'https://issuer.example') ->> 'sub' AS sub;
SELECT taskauth.jwt_verify(:'es256', :'ec256'::jsonb, audience => 'web');
SELECT taskauth.jwt_verify(:'es256_audarr', :'ec256'::jsonb, audience => 'web') ->> 'aud' AS aud;
SELECT taskauth.jwt_verify(:'es256', :'ec256'::jsonb, audience => NULL, issuer => 'https://other.example');
SELECT taskauth.jwt_verify(:'es256', :'ec256'::jsonb, NULL, NULL) ->> 'sub' AS sub;
-- SQLSTATEs: token failures are 28000, key mistakes 22023.
CREATE FUNCTION pg_temp.state(tok text, key jsonb) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  PERFORM taskauth.jwt_verify(tok, key);
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ' ' || SQLERRM;
END $$;
SELECT pg_temp.state(:'es256_expired', :'ec256') AS expired, pg_temp.state(:'rs256_nokid', :'ec256') AS wrong_key_type,
       pg_temp.state(:'es256', :'rsa_small') AS small_key, pg_temp.state(:'es256', '{"keys":[]}') AS empty_set;
-- Parsed keys are cached per backend; many distinct keys evict one another safely.
SELECT count(taskauth.jwt_verify(CASE WHEN g % 2 = 0 THEN :'es256' ELSE :'eddsa' END,
                                 CASE WHEN g % 2 = 0 THEN :'ec256'::jsonb ELSE :'ed'::jsonb END || jsonb_build_object('x-n', g % 40)))
FROM generate_series(1, 200) AS g;
-- Payloads come back exactly.
SELECT taskauth.jwt_verify(:'eddsa_rich', :'ed'::jsonb);
-- NULL in, NULL out.
SELECT taskauth.jwt_verify(NULL, :'ed'::jsonb) AS a, taskauth.jwt_verify(:'eddsa', NULL::jsonb) AS b,
       taskauth.jwt_verify(NULL::text, NULL::jsonb, 'api') AS c;

-- Keys that are refused.
SELECT taskauth.jwt_verify(:'rs256', :'rsa_small'::jsonb);
SELECT taskauth.jwt_verify(:'es256', :'ec_private'::jsonb);
SELECT taskauth.jwt_verify(:'es256', :'ec256'::jsonb || '{"use":"enc"}');
SELECT taskauth.jwt_verify(:'es256', :'ec256'::jsonb || '{"key_ops":["sign"]}');
SELECT taskauth.jwt_verify(:'es256', :'ec256'::jsonb || '{"key_ops":["verify"]}') ->> 'sub' AS sub;
SELECT taskauth.jwt_verify(:'es256', :'ec256'::jsonb || '{"alg":"ES384"}');
SELECT taskauth.jwt_verify(:'es256', :'ec256'::jsonb || '{"crv":"P-384"}');
SELECT taskauth.jwt_verify(:'es256', :'ec256'::jsonb || '{"crv":"secp256k1"}');
SELECT taskauth.jwt_verify(:'es256', :'ec256'::jsonb || '{"x":"AAAA"}');
SELECT taskauth.jwt_verify(:'es256', :'ec256'::jsonb || '{"kty":"oct","k":"c2VjcmV0"}');
SELECT taskauth.jwt_verify(:'es256', :'ec256'::jsonb || '{"kty":"EC "}');
SELECT taskauth.jwt_verify(:'es256', :'ec256'::jsonb || '{"x":42}');
SELECT taskauth.jwt_verify(:'es256', '[]'::jsonb);
SELECT taskauth.jwt_verify(:'es256', '"key"'::jsonb);
SELECT taskauth.jwt_verify(:'es256', '{"keys":{}}'::jsonb);
SELECT taskauth.jwt_verify(:'es256', '{"keys":[]}'::jsonb);
-- In a set, unusable keys are skipped, and reported only when nothing else could verify.
SELECT taskauth.jwt_verify(:'es256', jsonb_build_object('keys', jsonb_build_array(
         '{"kty":"oct","k":"c2VjcmV0","kid":"ec-256"}'::jsonb, :'rsa_small'::jsonb, 1, :'ec256'::jsonb))) ->> 'sub' AS sub;
SELECT taskauth.jwt_verify(:'rs256', jsonb_build_object('keys', jsonb_build_array(:'rsa_small'::jsonb || '{"kid":"rsa-1"}', :'ec256'::jsonb)));

-- jwk_from_pem: one key path for PEM keys.
SELECT taskauth.jwk_from_pem(:'rsa_pem') = :'rsa_nokid'::jsonb AS rsa_spki,
       taskauth.jwk_from_pem(:'rsa_pkcs1_pem') = :'rsa_nokid'::jsonb AS rsa_pkcs1,
       taskauth.jwk_from_pem(:'ec_pem') = :'ec384_jwk'::jsonb AS ec,
       taskauth.jwk_from_pem(:'ed_pem') = :'ed_jwk'::jsonb AS ed;
SELECT taskauth.jwt_verify(:'rs256', taskauth.jwk_from_pem(:'rsa_pem')) ->> 'sub' AS sub;
SELECT taskauth.jwt_verify(:'hs256_pem', taskauth.jwk_from_pem(:'rsa_pem'));
SELECT taskauth.jwk_from_pem(:'rsa_small_pem');
SELECT taskauth.jwk_from_pem(:'k1_pem');
SELECT taskauth.jwk_from_pem(:'ed_private_pem');
SELECT taskauth.jwk_from_pem('not a key');
SELECT taskauth.jwk_from_pem('');
-- Leave the database as this file found it, for the suites that follow.
SET client_min_messages = warning;
DROP EXTENSION taskauth CASCADE;
